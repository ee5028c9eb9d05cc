import t, { type Test } from 'tap'
import { freePort } from '../../scripts/lib/launch/free-port.js'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { declaredPartitionAssigner } from '../../src/kafka/partition-assigner.js'
import { registryKeys, type RegistryKeys } from '../../src/registry/keys.js'
import { build, uniqueName, waitFor } from '../helpers/build.js'
import { createTopic, joinGroup, readRecords, recordCount, type ReadRecord } from '../produce/helpers.js'

const post = (app: FastifyInstance, payload: unknown): Promise<LightMyRequestResponse> =>
  app.inject({ method: 'POST', url: '/messages', payload: payload as object })

/** A registry entry as syrup-kafka writes it: topic → the one group's fields. */
function entry (topic: string, group: { groupId: string, memberId: string, groupProtocol: string, partitions?: number[] }): string {
  return JSON.stringify({ [topic]: { leaderId: group.memberId, isLeader: true, ...group } })
}

async function setup (t: Test): Promise<{ app: FastifyInstance, keys: RegistryKeys, topic: string }> {
  const registryKey = uniqueName('registry')
  const app = await build(t, { REGISTRY_KEY: registryKey })
  const keys = registryKeys(registryKey)
  t.teardown(async () => { await app.redis.redis.del(keys.registry, keys.gateways) })
  const topic = uniqueName('arrival')
  await createTopic(app, topic, 4)
  return { app, keys, topic }
}

t.test('gateway-style client: alive heartbeat → its custom-assigner partitions, arrival/departure headers on the records', async t => {
  const { app, keys, topic } = await setup(t)
  const client = uniqueName('gateway-b')
  const redis = app.redis.redis
  await redis.hset(keys.registry, client, entry(topic, { groupId: 'g1', memberId: `${client}-m1`, groupProtocol: 'custom-assigner', partitions: [1, 3] }))
  await redis.sadd(keys.gateways, client)
  await redis.set(keys.alive(client), '1', 'PX', 30_000)
  t.teardown(async () => { await redis.del(keys.alive(client)) })

  const res = await post(app, { topic, arrival: client, value: { hello: 'b' } })
  t.equal(res.statusCode, 200)
  t.same(res.json().results.map((r: { partition: number }) => r.partition), [1, 3], 'one copy per partition of the consumer')
  t.notOk(res.json().warnings)
  const records = await readRecords(t, app, topic, 2)
  for (const r of records) {
    t.equal(r.headers.arrival, client)
    t.equal(r.headers.departure, app.kafka.clientId)
    t.equal(r.value?.toString(), '{"hello":"b"}')
  }

  // the heartbeat expires → not alive
  await redis.del(keys.alive(client))
  const dead = await post(app, { topic, arrival: client, value: 1 })
  t.equal(dead.statusCode, 422)
  t.match(dead.json(), { code: 'GW_ARRIVAL_UNROUTABLE', message: /not alive/, details: [{ field: 'body/arrival', rule: 'alive' }] })
})

t.test('syrup-style client verified through its real consumer group member, end to end', async t => {
  const { app, keys, topic } = await setup(t)
  const client = uniqueName('syrup-proc')
  const groupId = uniqueName('standalone-group')
  const received: ReadRecord[] = []
  const member = await joinGroup(t, app, { groupId, topic, assigner: declaredPartitionAssigner({ [topic]: [2] }), onMessage: r => received.push(r) })
  // written the way syrup-kafka writes it: no gateways-set membership, no heartbeat
  await app.redis.redis.hset(keys.registry, client, entry(topic, { groupId, memberId: member.memberId, groupProtocol: 'custom-assigner', partitions: [2] }))

  const res = await post(app, { topic, arrival: client, key: 'k', value: 'to the standalone consumer' })
  t.equal(res.statusCode, 200)
  t.match(res.json().results, [{ index: 0, topic, partition: 2 }])
  const got = await waitFor('the consumer to receive it', () => received.find(r => r.value?.toString() === 'to the standalone consumer'), 20_000)
  t.equal(got.partition, 2)
  t.equal(got.headers.arrival, client)
  t.equal(got.headers.departure, app.kafka.clientId)
  t.equal(got.headers['content-type'], 'text/plain; charset=utf-8')

  // the process stops: its member leaves the group → not alive (within the liveness cache)
  await member.consumer.disconnect()
  const gone = await waitFor('arrival to become unroutable', async () => {
    const r = await post(app, { topic, arrival: client, value: 'x' })
    return r.statusCode === 422 ? r : undefined
  }, 15_000, 250)
  t.match(gone.json(), { code: 'GW_ARRIVAL_UNROUTABLE', details: [{ rule: 'alive' }], message: /not in consumer group/ })
})

t.test('not registered, not partition-assigned, stale member: 422 naming the rule; never a fallback', async t => {
  const { app, keys, topic } = await setup(t)
  const redis = app.redis.redis

  const unknown = await post(app, { topic, arrival: 'nobody-here', value: 1 })
  t.equal(unknown.statusCode, 422)
  t.match(unknown.json(), { code: 'GW_ARRIVAL_UNROUTABLE', message: /not registered/, details: [{ field: 'body/arrival', rule: 'registered' }] })

  const rr = uniqueName('rr-client')
  await redis.hset(keys.registry, rr, entry(topic, { groupId: 'rr', memberId: `${rr}-m`, groupProtocol: 'RoundRobinAssigner' }))
  const roundRobin = await post(app, { topic, arrival: rr, value: 1 })
  t.equal(roundRobin.statusCode, 422)
  t.match(roundRobin.json(), { details: [{ rule: 'partitionAssigned' }], message: /partition-assigned/ })

  const otherTopic = uniqueName('other-topic-client')
  await redis.hset(keys.registry, otherTopic, entry('some-other-topic', { groupId: 'x', memberId: 'm', groupProtocol: 'custom-assigner', partitions: [0] }))
  const noConsumer = await post(app, { topic, arrival: otherTopic, value: 1 })
  t.equal(noConsumer.statusCode, 422)
  t.match(noConsumer.json(), { details: [{ rule: 'partitionAssigned' }], message: /no consumer on topic/ })

  const empty = uniqueName('empty-partitions')
  await redis.hset(keys.registry, empty, entry(topic, { groupId: 'x', memberId: 'm', groupProtocol: 'custom-assigner', partitions: [] }))
  t.match((await post(app, { topic, arrival: empty, value: 1 })).json(), { details: [{ rule: 'partitionAssigned' }] })

  const stale = uniqueName('stale-syrup')
  await redis.hset(keys.registry, stale, entry(topic, { groupId: uniqueName('no-such-group'), memberId: 'syrup-member-gone', groupProtocol: 'custom-assigner', partitions: [0] }))
  const staleRes = await post(app, { topic, arrival: stale, value: 1 })
  t.equal(staleRes.statusCode, 422)
  t.match(staleRes.json(), { details: [{ rule: 'alive' }] })

  const beyond = uniqueName('beyond')
  await redis.hset(keys.registry, beyond, entry(topic, { groupId: 'x', memberId: 'm', groupProtocol: 'custom-assigner', partitions: [9] }))
  await redis.sadd(keys.gateways, beyond)
  await redis.set(keys.alive(beyond), '1', 'PX', 30_000)
  const beyondRes = await post(app, { topic, arrival: beyond, value: 1 })
  t.equal(beyondRes.statusCode, 422)
  t.match(beyondRes.json(), { message: /partition 9.*4 partitions/ })

  await redis.hset(keys.registry, 'garbage', '{not json')
  t.match((await post(app, { topic, arrival: 'garbage', value: 1 })).json(), { code: 'GW_ARRIVAL_UNROUTABLE', details: [{ rule: 'registered' }] })

  t.equal(await recordCount(app, topic), 0, 'nothing was written by any refused request')
})

t.test('the groups list of an entry is routable; partitions win over arrival with a warning', async t => {
  const { app, keys, topic } = await setup(t)
  const redis = app.redis.redis
  const client = uniqueName('multi-group')
  await redis.hset(keys.registry, client, JSON.stringify({
    [topic]: {
      groupId: 'rr-group', memberId: 'm1', leaderId: 'm1', isLeader: true, groupProtocol: 'RoundRobinAssigner', partitions: [0, 1, 2, 3],
      groups: [
        { groupId: 'rr-group', memberId: 'm1', leaderId: 'm1', isLeader: true, groupProtocol: 'RoundRobinAssigner', partitions: [0, 1, 2, 3] },
        { groupId: 'pa-group', memberId: 'm2', leaderId: 'm2', isLeader: true, groupProtocol: 'custom-assigner', partitions: [3] }
      ]
    }
  }))
  await redis.sadd(keys.gateways, client)
  await redis.set(keys.alive(client), '1', 'PX', 30_000)
  const routed = await post(app, { topic, arrival: client, value: 'via groups' })
  t.equal(routed.statusCode, 200)
  t.match(routed.json().results, [{ partition: 3 }])

  // partitions win, even over an arrival that could not be routed at all
  const both = await post(app, { topic, partitions: [0], arrival: 'not-registered-anywhere', value: 'p wins' })
  t.equal(both.statusCode, 200)
  t.same(both.json(), {
    results: [{ index: 0, topic, partition: 0, offset: '0' }],
    warnings: [{ code: 'ARRIVAL_IGNORED', field: 'body/arrival', message: '`arrival` was ignored because `partitions` is given (partitions win)' }]
  })
  const batch = await post(app, { topic, messages: [{ value: 'a', arrival: client }, { value: 'b', arrival: client, partitions: [1] }] })
  t.equal(batch.statusCode, 200)
  t.match(batch.json(), { results: [{ index: 0, partition: 3 }, { index: 1, partition: 1 }], warnings: [{ field: 'body/messages/1/arrival' }] })

  const records = await readRecords(t, app, topic, 4)
  const pWins = records.find(r => r.value?.toString() === 'p wins')
  t.equal(pWins?.headers.arrival, undefined, 'an ignored arrival is not written as a header')
  t.equal(records.find(r => r.value?.toString() === 'a')?.headers.arrival, client)
})

t.test('Redis down: arrival → 503 GW_REDIS_UNAVAILABLE; produce without arrival keeps working', async t => {
  const port = await freePort()
  const app = await build(t, { REDIS_URL: `redis://127.0.0.1:${port}/0` })
  const topic = uniqueName('no-redis')
  await createTopic(app, topic, 2)
  const res = await post(app, { topic, arrival: 'anyone', value: 1 })
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '1')
  t.match(res.json(), { code: 'GW_REDIS_UNAVAILABLE', message: /arrival/ })
  const plain = await post(app, { topic, value: 'still works' })
  t.equal(plain.statusCode, 200)
  const idem = await app.inject({ method: 'POST', url: '/messages', payload: { topic, value: 1 }, headers: { 'idempotency-key': 'k1' } })
  t.equal(idem.statusCode, 503, 'an Idempotency-Key cannot be honoured without Redis')
  t.match(idem.json(), { code: 'GW_REDIS_UNAVAILABLE' })
})
