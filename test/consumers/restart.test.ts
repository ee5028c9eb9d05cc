import t from 'tap'
import { build, uniqueName, waitFor } from '../helpers/build.js'
import { startReceiver } from './helpers/receiver.js'
import { FAST_CONSUMER, createTopic, defineGroups, gatewayEnv, produce, registry, registryKey, waitForAssignment } from './helpers/kafka.js'
import { startRedis } from '../../scripts/lib/launch/redis.js'
import { registryKeys } from '../../src/registry/keys.js'

t.test('a restart resumes from committed offsets without re-delivering acknowledged records', async t => {
  const key = registryKey(t)
  const id = uniqueName('gw')
  const first = await build(t, gatewayEnv(key, id))
  const topic = await createTopic(first, 2)
  const hook = await startReceiver(t)
  const groupId = uniqueName('rr')
  await defineGroups(first, { [groupId]: { isPartitionAssign: false, fromBeginning: true, topics: [{ name: topic }], webhook: { url: hook.url }, consumer: FAST_CONSUMER } })
  const before = await produce(first, topic, 30, 2, 'before')
  // acknowledged = the gateway saw the 2xx (the receiver may record a request whose answer a close then cuts off)
  await waitFor('30 acknowledged deliveries', async () => {
    const view = (await first.inject({ method: 'GET', url: `/consumer-groups/${groupId}` })).json()
    return view.instances[id]?.delivered === 30
  }, 30_000)
  await first.close()

  const producer = await build(t, gatewayEnv(registryKey(t), uniqueName('producer')))
  const during = await produce(producer, topic, 10, 2, 'during')

  // same clientId: the graceful close released the heartbeat, so it starts at once and runs the stored definition
  const second = await build(t, gatewayEnv(key, id))
  await waitFor('the records produced while it was down', () => during.every(v => hook.values().includes(v)), 30_000)
  const after = await produce(second, topic, 10, 2, 'after')
  await waitFor('records produced after the restart', () => after.every(v => hook.values().includes(v)), 30_000)
  const counts = new Map<string, number>()
  for (const v of hook.values()) counts.set(v, (counts.get(v) ?? 0) + 1)
  t.same([...counts.entries()].filter(([, n]) => n > 1), [], 'nothing was delivered twice')
  t.equal(hook.received.length, before.length + during.length + after.length)
})

t.test('Redis restart: consumers keep delivering while it is down; definitions, registry entry and heartbeat are rewritten after', async t => {
  const redis = await startRedis({ port: 0 })
  t.teardown(() => redis.stop())
  const key = uniqueName('registry')
  const keys = registryKeys(key)
  const app = await build(t, gatewayEnv(key, uniqueName('gw'), { REDIS_URL: redis.url }))
  const topic = await createTopic(app, 2)
  const hook = await startReceiver(t)
  const groupId = uniqueName('rr')
  await defineGroups(app, { [groupId]: { isPartitionAssign: false, fromBeginning: true, topics: [{ name: topic }], webhook: { url: hook.url }, consumer: FAST_CONSUMER } })
  await waitForAssignment(app, groupId, topic, [app.kafka.clientId], 2)
  const one = await produce(app, topic, 10, 2, 'one')
  await waitFor('first deliveries', () => one.every(v => hook.values().includes(v)), 30_000)

  await redis.stop() // no persistence: everything in it is lost
  const down = await app.inject({ method: 'GET', url: '/consumer-groups' })
  t.equal(down.statusCode, 503)
  t.equal(down.json().code, 'GW_REDIS_UNAVAILABLE')
  t.equal((await app.inject({ method: 'GET', url: '/consumers' })).statusCode, 503)
  const two = await produce(app, topic, 10, 2, 'two')
  await waitFor('deliveries while Redis is down', () => two.every(v => hook.values().includes(v)), 30_000)
  t.pass('consumers kept delivering without Redis')

  await redis.start()
  await waitFor('the registry entry to be rewritten', async () => {
    const reg = await registry(app).catch(() => undefined)
    return reg?.[app.kafka.clientId]?.[topic]?.groupId === groupId
  }, 20_000, 100)
  const groups = (await app.inject({ method: 'GET', url: '/consumer-groups' })).json()
  t.same(groups.groups.map((g: { groupId: string }) => g.groupId), [groupId], 'the definition was written back')
  t.equal(await app.redis.redis.exists(keys.alive(app.kafka.clientId)), 1, 'heartbeat back')
  t.equal(await app.redis.redis.sismember(keys.gateways, app.kafka.clientId), 1)
  const three = await produce(app, topic, 10, 2, 'three')
  await waitFor('deliveries after Redis returned', () => three.every(v => hook.values().includes(v)), 30_000)
})

t.test('Redis coming back empty in the middle of a tick (after the epoch check, before the definitions are read) loses no definition', async t => {
  const key = registryKey(t)
  const keys = registryKeys(key)
  const app = await build(t, gatewayEnv(key, uniqueName('gw')))
  const topic = await createTopic(app, 1)
  const hook = await startReceiver(t)
  const groupId = uniqueName('rr')
  await defineGroups(app, { [groupId]: { isPartitionAssign: false, fromBeginning: true, topics: [{ name: topic }], webhook: { url: hook.url }, consumer: FAST_CONSUMER } })
  await waitForAssignment(app, groupId, topic, [app.kafka.clientId], 1)

  // the data loss, injected at the moment the tick reads the definitions: every key of this registry
  // deleted, as a Redis restart without persistence leaves them
  const redis = app.redis.redis
  const hgetall = redis.hgetall.bind(redis)
  let armed = true
  const lose = async (): Promise<void> => {
    const all = await redis.keys(`${key}*`)
    if (all.length > 0) await redis.del(...all)
  }
  const patched = async (k: string): Promise<Record<string, string>> => {
    if (armed && k === keys.groups) {
      armed = false
      await lose()
    }
    return await hgetall(k)
  }
  redis.hgetall = patched as unknown as typeof redis.hgetall
  t.teardown(() => { redis.hgetall = hgetall as typeof redis.hgetall })

  await app.consumerSupervisor.reconcileNow()
  t.equal(armed, false, 'the tick read the definitions after the loss')
  await app.consumerSupervisor.reconcileNow()
  t.equal(await redis.hexists(keys.groups, groupId), 1, 'the definition was written back')
  t.equal(app.consumerSupervisor.statuses()[groupId]?.running, true, 'the group kept running')
  const after = await produce(app, topic, 5, 1, 'after')
  await waitFor('deliveries after the loss', () => after.every(v => hook.values().includes(v)), 30_000)
})
