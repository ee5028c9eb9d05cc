import t from 'tap'
import { uniqueName, waitFor } from '../helpers/build.js'
import { startReceiver } from './helpers/receiver.js'
import { FAST_CONSUMER, createTopic, defineGroups, gateway, produce, registry, registryKey, waitForAssignment } from './helpers/kafka.js'

t.test('a round-robin group on two instances splits the partitions and delivers every record exactly once', async t => {
  const key = registryKey(t)
  const a = await gateway(t, key, uniqueName('gw-a'))
  const b = await gateway(t, key, uniqueName('gw-b'))
  const topic = await createTopic(a, 4)
  const receiver = await startReceiver(t)
  const groupId = uniqueName('rr')
  await defineGroups(a, { [groupId]: { isPartitionAssign: false, fromBeginning: true, topics: [{ name: topic }], webhook: { url: receiver.url }, consumer: FAST_CONSUMER } })

  // POSTed on a, b picks the definition up within a heartbeat
  const split = await waitForAssignment(b, groupId, topic, [a.kafka.clientId, b.kafka.clientId], 4)
  t.equal(split[a.kafka.clientId]?.length, 2, 'a has half the partitions')
  t.equal(split[b.kafka.clientId]?.length, 2, 'b has the other half')
  t.same([...(split[a.kafka.clientId] ?? []), ...(split[b.kafka.clientId] ?? [])].sort(), [0, 1, 2, 3])
  const raw = await registry(a)
  t.equal(raw[a.kafka.clientId]?.[topic]?.groupProtocol, 'RoundRobinAssigner')

  const values = await produce(a, topic, 80, 4)
  await waitFor('80 deliveries', () => receiver.received.length >= 80, 30_000)
  // each instance answers its own status from memory and the other's from Redis, written every heartbeat:
  // only when both views count all 80 is each instance's written status current
  await waitFor('statuses to count them', async () => {
    for (const viewer of [a, b]) {
      const view = (await viewer.inject({ method: 'GET', url: `/consumer-groups/${groupId}` })).json()
      const n = (view.instances[a.kafka.clientId]?.delivered ?? 0) + (view.instances[b.kafka.clientId]?.delivered ?? 0)
      if (n !== 80) return undefined
    }
    return true
  }, 10_000)
  t.equal(receiver.received.length, 80, 'no duplicates')
  t.same(receiver.values().sort(), [...values].sort(), 'every record once')
  const view = (await b.inject({ method: 'GET', url: `/consumer-groups/${groupId}` })).json()
  t.ok(view.instances[a.kafka.clientId].delivered > 0 && view.instances[b.kafka.clientId].delivered > 0, 'both instances delivered')
  // per partition, records arrive in offset order
  for (let p = 0; p < 4; p++) {
    const offsets = receiver.received.filter(r => r.body.partition === p).map(r => Number(r.body.offset))
    t.same(offsets, [...offsets].sort((x, y) => x - y), `partition ${p} in order`)
  }
})

t.test('a partition-assigned group gives each instance exactly its declared partitions; arrival routes to them', async t => {
  const key = registryKey(t)
  const idA = uniqueName('gw-a')
  const idB = uniqueName('gw-b')
  const a = await gateway(t, key, idA)
  const b = await gateway(t, key, idB)
  const topic = await createTopic(a, 4)
  const hookA = await startReceiver(t)
  const hookB = await startReceiver(t)
  const groupId = uniqueName('pa')
  const base = { isPartitionAssign: true, fromBeginning: true, consumer: FAST_CONSUMER }
  await defineGroups(a, { [groupId]: { ...base, topics: [{ name: topic, partitions: [0, 1] }], webhook: { url: hookA.url }, clientIds: [idA] } })
  const second = await defineGroups(b, { [groupId]: { ...base, topics: [{ name: topic, partitions: [2, 3] }], webhook: { url: hookB.url }, clientIds: [idB] } })
  t.same(second.json().warnings, [], 'disjoint declarations: no warning')

  const split = await waitForAssignment(a, groupId, topic, [idA, idB], 4)
  t.same(split, { [idA]: [0, 1], [idB]: [2, 3] })
  const reg = await registry(a, `?groupId=${groupId}`)
  t.equal(reg[idA]?.[topic]?.groupProtocol, 'custom-assigner')
  t.equal(reg[idB]?.[topic]?.groupProtocol, 'custom-assigner')

  // syrup-kafka's routing test, on the raw Redis value
  const rawA = JSON.parse(await a.redis.redis.hget(key, idA) ?? '{}')
  t.ok(rawA[topic].groupProtocol === 'custom-assigner' && rawA[topic].partitions, 'value[topic].groupProtocol === "custom-assigner" && value[topic].partitions')
  t.same(rawA[topic].partitions, [0, 1])

  await produce(a, topic, 40, 4)
  await waitFor('40 deliveries', () => hookA.received.length + hookB.received.length >= 40, 30_000)
  t.same([...new Set(hookA.received.map(r => r.body.partition))].sort(), [0, 1], 'a delivers partitions 0 and 1 only')
  t.same([...new Set(hookB.received.map(r => r.body.partition))].sort(), [2, 3], 'b delivers partitions 2 and 3 only')
  t.equal(hookA.received.length, 20)
  t.equal(hookB.received.length, 20)

  // arrival: b's partition-assigned consumer gets the message, end to end
  const sent = await a.inject({ method: 'POST', url: '/messages', payload: { topic, value: 'for-b', arrival: idB } })
  t.ok(sent.statusCode < 300, `POST /messages with arrival answered ${sent.statusCode} ${sent.body}`)
  await waitFor('the arrival-routed message at b', () => hookB.received.some(r => r.body.value === 'for-b'), 30_000)
  const routed = hookB.received.filter(r => r.body.value === 'for-b')
  t.ok(routed.length >= 1 && routed.every(r => r.body.partition === 2 || r.body.partition === 3), 'it landed on b\'s partitions')
  t.notOk(hookA.received.some(r => r.body.value === 'for-b'), 'a never saw it')
})

t.test('a partition-assigned group declared for every instance: each consumes the same partitions, with a warning', async t => {
  const key = registryKey(t)
  const a = await gateway(t, key, uniqueName('gw-a'))
  const b = await gateway(t, key, uniqueName('gw-b'))
  const topic = await createTopic(a, 2)
  const hook = await startReceiver(t)
  const groupId = uniqueName('pa-all')
  const res = await defineGroups(a, { [groupId]: { isPartitionAssign: true, fromBeginning: true, topics: [{ name: topic, partitions: [1] }], webhook: { url: hook.url }, consumer: FAST_CONSUMER } })
  t.match(res.json().warnings, [{ groupId, message: /each of the 2 live instances/ }])
  const split = await waitForAssignment(a, groupId, topic, [a.kafka.clientId, b.kafka.clientId], 2)
  t.same(split, { [a.kafka.clientId]: [1], [b.kafka.clientId]: [1] })
  await produce(a, topic, 4, 2)
  await waitFor('each instance delivers partition 1', () => hook.received.length >= 4, 30_000)
  t.ok(hook.received.every(r => r.body.partition === 1))
})
