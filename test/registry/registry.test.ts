import t from 'tap'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { build, captureLogger, uniqueName, waitFor } from '../helpers/build.js'
import { registryKeys } from '../../src/registry/keys.js'
import { createRegistry, type TopicPart } from '../../src/registry/registry.js'
import { startReceiver } from '../consumers/helpers/receiver.js'
import { FAST_CONSUMER, createTopic, defineGroups, gateway, gatewayEnv, registry, registryKey } from '../consumers/helpers/kafka.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0'

function part (topic: string, groupId: string, partitions: number[], groupProtocol = 'RoundRobinAssigner'): TopicPart {
  return { topic, groupId, memberId: `${groupId}-member`, leaderId: `${groupId}-member`, isLeader: true, groupProtocol, partitions }
}

t.test('registry entries: atomic per-group updates from many connections at once, syrup-compatible top level', async t => {
  const key = registryKey(t)
  const keys = registryKeys(key)
  const connections = Array.from({ length: 8 }, () => new Redis(REDIS_URL))
  t.teardown(() => { for (const c of connections) c.disconnect() })
  const registries = connections.map(redis => createRegistry({ redis, keys, logger: pino({ level: 'silent' }) }))
  const groups = Array.from({ length: 24 }, (_v, i) => `g${String(i).padStart(2, '0')}`)
  // 24 groups of one client on one topic, written concurrently over 8 connections
  await Promise.all(groups.map((g, i) => registries[i % 8]?.setGroup('client-1', g, [part('orders', g, [i])])))
  const read = JSON.parse(await connections[0]?.hget(key, 'client-1') ?? '{}')
  t.same(read.orders.groups.map((g: { groupId: string }) => g.groupId), groups, 'no group lost')
  t.equal(read.orders.groupId, 'g00', 'top level: the first group when none is custom-assigner')
  t.same(read.orders.partitions, [0])

  // a custom-assigner group takes the top level (syrup-kafka's arrival reads it)
  const reg = registries[0]!
  await reg.setGroup('client-1', 'zz-custom', [part('orders', 'zz-custom', [5, 3], 'custom-assigner'), part('audit', 'zz-custom', [0], 'custom-assigner')])
  let entry = JSON.parse(await connections[0]?.hget(key, 'client-1') ?? '{}')
  t.equal(entry.orders.groupId, 'zz-custom')
  t.equal(entry.orders.groupProtocol, 'custom-assigner')
  t.same(entry.orders.partitions, [3, 5], 'partitions sorted')
  t.same(Object.keys(entry).sort(), ['audit', 'orders'])

  // topics no longer assigned disappear; an empty part list removes the group
  await reg.setGroup('client-1', 'zz-custom', [part('orders', 'zz-custom', [3], 'custom-assigner')])
  entry = JSON.parse(await connections[0]?.hget(key, 'client-1') ?? '{}')
  t.same(Object.keys(entry), ['orders'], 'audit is gone')
  await reg.setGroup('client-1', 'zz-custom', [part('orders', 'zz-custom', [], 'custom-assigner')])
  entry = JSON.parse(await connections[0]?.hget(key, 'client-1') ?? '{}')
  t.equal(entry.orders.groupId, 'g00')
  await reg.removeGroups('client-1', groups.slice(1))
  entry = JSON.parse(await connections[0]?.hget(key, 'client-1') ?? '{}')
  t.same(entry.orders.groups.map((g: { groupId: string }) => g.groupId), ['g00'])
  await reg.replaceAll('client-1', [part('x', 'only', [1])])
  entry = JSON.parse(await connections[0]?.hget(key, 'client-1') ?? '{}')
  t.same(Object.keys(entry), ['x'])
  await reg.replaceAll('client-1', [])
  t.equal(await connections[0]?.hexists(key, 'client-1'), 0, 'an empty entry is deleted')
})

t.test('several groups joining at once lose no entry; seed events are logged', async t => {
  const key = registryKey(t)
  const { logger, logs } = captureLogger('info')
  const app = await build(t, gatewayEnv(key, uniqueName('gw')), logger)
  const topic = await createTopic(app, 2)
  const hook = await startReceiver(t)
  const ids = Array.from({ length: 6 }, () => uniqueName('many'))
  const body: Record<string, unknown> = {}
  for (const [i, id] of ids.entries()) {
    body[id] = i % 2 === 0
      ? { isPartitionAssign: false, topics: [{ name: topic }], webhook: { url: hook.url }, consumer: FAST_CONSUMER }
      : { isPartitionAssign: true, topics: [{ name: topic, partitions: [i % 2] }], webhook: { url: hook.url }, consumer: FAST_CONSUMER }
  }
  await defineGroups(app, body)
  const entry = await waitFor('all six groups in the entry', async () => {
    const e = (await registry(app))[app.kafka.clientId]?.[topic]
    return e?.groups?.length === 6 ? e : undefined
  }, 30_000)
  t.same(entry.groups?.map(g => g.groupId), [...ids].sort())
  t.equal(entry.groupProtocol, 'custom-assigner', 'a custom-assigner group is on top')
  // straight from Redis too (GET /consumers reads the same hash)
  const raw = JSON.parse(await app.redis.redis.hget(key, app.kafka.clientId) ?? '{}')
  t.equal(raw[topic].groups.length, 6)

  await waitFor('CONSUMERS_LOAD_COMPLETE', () => logs.lines().some(l => l.event === 'CONSUMERS_LOAD_COMPLETE'), 10_000)
  const joins = logs.lines().filter(l => l.event === 'JOIN_GROUP')
  t.ok(ids.every(id => joins.some(j => j.groupId === id)), 'a JOIN_GROUP line per group')
  t.match(joins[0], { groupId: String, memberId: String, leaderId: String, isLeader: Boolean, groupProtocol: String, memberAssignment: Object })
  const complete = logs.lines().find(l => l.event === 'CONSUMERS_LOAD_COMPLETE')
  t.equal((complete?.consumers as unknown[]).length, 6)
})

t.test('a clientId that is already live is refused; a dead leftover is not', async t => {
  const key = registryKey(t)
  const id = uniqueName('gw')
  await gateway(t, key, id)
  const started = Date.now()
  await t.rejects(gateway(t, key, id), { name: 'DuplicateClientIdError', message: /already used by a live gateway instance/ })
  t.ok(Date.now() - started < 5000, 'refused within a few heartbeats')

  // a heartbeat key nobody refreshes (a killed instance) only delays the start until it expires
  const ghost = uniqueName('gw')
  const keys = registryKeys(key)
  const redis = new Redis(REDIS_URL)
  t.teardown(() => redis.disconnect())
  await redis.set(keys.alive(ghost), 'someone-dead', 'PX', 1000)
  const app = await gateway(t, key, ghost)
  t.equal(await redis.get(keys.alive(ghost)), await app.redis.redis.get(keys.alive(ghost)))
  t.not(await redis.get(keys.alive(ghost)), 'someone-dead')
})

t.test('dead instances are swept; GET /consumers shows only live ones', async t => {
  const key = registryKey(t)
  const keys = registryKeys(key)
  const app = await gateway(t, key)
  const redis = app.redis.redis
  const dead = uniqueName('dead-gw')
  await redis.sadd(keys.gateways, dead)
  await redis.hset(key, dead, JSON.stringify({ t: { groupId: 'g', memberId: 'm', leaderId: 'm', isLeader: true, groupProtocol: 'custom-assigner', partitions: [0], groups: [] } }))
  await redis.hset(keys.status(dead), 'g', '{}')
  t.notOk((await registry(app))[dead], 'a gateway without heartbeat is not listed')
  await waitFor('the sweep', async () => (await redis.hexists(key, dead)) === 0 && (await redis.sismember(keys.gateways, dead)) === 0 && (await redis.exists(keys.status(dead))) === 0, 5000)
  t.pass('its registry field, status and membership are gone')
  t.equal(await redis.sismember(keys.gateways, app.kafka.clientId), 1, 'the live instance stays')
})

t.test('an instance without definitions leaves nothing in Redis when it closes', async t => {
  const key = registryKey(t)
  const app = await gateway(t, key)
  const redis = new Redis(REDIS_URL)
  t.teardown(() => redis.disconnect())
  t.ok((await redis.keys(`${key}*`)).length > 0, 'heartbeat, membership and epoch while it runs')
  await app.close()
  t.same(await redis.keys(`${key}*`), [])
})
