import t from 'tap'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import type { Admin } from 'kafkajs'
import { createArrivalResolver, partitionAssignedGroup } from '../../src/registry/arrival.js'
import { registryKeys } from '../../src/registry/keys.js'
import { build, uniqueName } from '../helpers/build.js'
import { joinGroup } from './helpers.js'
import { declaredPartitionAssigner } from '../../src/kafka/partition-assigner.js'
import { createTopicsAndWait } from '../../src/kafka/create-topics.js'

const logger = pino({ level: 'silent' })

t.test('which group of a topic entry routes arrival', async t => {
  const g = (groupId: string, groupProtocol: string, partitions: unknown): Record<string, unknown> =>
    ({ groupId, memberId: `${groupId}-m`, leaderId: 'l', isLeader: false, groupProtocol, partitions })
  t.match(partitionAssignedGroup(g('a', 'custom-assigner', [2, 0])), { groupId: 'a', partitions: [2, 0] })
  t.equal(partitionAssignedGroup(g('a', 'RoundRobinAssigner', [0])), undefined)
  t.equal(partitionAssignedGroup(g('a', 'custom-assigner', [])), undefined, 'no partitions: not routable')
  t.equal(partitionAssignedGroup(g('a', 'custom-assigner', undefined)), undefined)
  t.match(partitionAssignedGroup({ ...g('rr', 'RoundRobinAssigner', [0, 1]), groups: [g('rr', 'RoundRobinAssigner', [0, 1]), g('pa', 'custom-assigner', [1])] }), { groupId: 'pa', partitions: [1] })
  t.match(partitionAssignedGroup(g('a', 'custom-assigner', [1, -1, 'x', 2.5, 3])), { partitions: [1, 3] }, 'junk partitions are dropped')
  t.equal(partitionAssignedGroup('nonsense'), undefined)
  t.equal(partitionAssignedGroup(null), undefined)
})

t.test('the resolver: syrup liveness is cached ~2 s and looked up once for concurrent requests', async t => {
  const app = await build(t)
  const topic = uniqueName('arrival-unit')
  const admin = await app.kafka.connectedAdmin()
  await createTopicsAndWait(admin, { topics: [{ topic, numPartitions: 3 }] })
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0')
  t.teardown(() => { redis.disconnect() })
  const keys = registryKeys(uniqueName('registry'))
  t.teardown(async () => { await redis.del(keys.registry) })
  let lookups = 0
  const counting = new Proxy(admin, {
    get (target, prop, receiver) {
      if (prop === 'describeGroups') return async (ids: string[]) => { lookups++; return await target.describeGroups(ids) }
      return Reflect.get(target, prop, receiver) as unknown
    }
  }) as Admin
  const resolver = createArrivalResolver({ redis, keys, getAdmin: async () => counting, logger, livenessCacheMs: 2000 })

  const groupId = uniqueName('syrup-group')
  const member = await joinGroup(t, app, { groupId, topic, assigner: declaredPartitionAssigner({ [topic]: [0, 2] }) })
  await redis.hset(keys.registry, 'syrup-1', JSON.stringify({ [topic]: { groupId, memberId: member.memberId, leaderId: member.leaderId, isLeader: true, groupProtocol: 'custom-assigner', partitions: [2, 0, 2] } }))
  const routes = await Promise.all(Array.from({ length: 5 }, () => resolver.resolve('syrup-1', topic, 'body/messages/4/arrival')))
  for (const r of routes) t.same(r, { clientId: 'syrup-1', groupId, memberId: member.memberId, partitions: [0, 2], kind: 'syrup' })
  t.equal(lookups, 1, 'one describeGroups for concurrent lookups')
  await resolver.resolve('syrup-1', topic)
  t.equal(lookups, 1, 'cached')
  await t.rejects(resolver.resolve('ghost', topic, 'body/messages/4/arrival'), { statusCode: 422, code: 'GW_ARRIVAL_UNROUTABLE', details: [{ field: 'body/messages/4/arrival', rule: 'registered' }] })
})
