import t from 'tap'
import { uniqueName, waitFor } from '../helpers/build.js'
import { startReceiver } from '../consumers/helpers/receiver.js'
import { FAST_CONSUMER, createTopic, defineGroups, gateway, produce, registry, registryKey, waitForAssignment } from '../consumers/helpers/kafka.js'
import { declaredPartitionAssigner } from '../../src/kafka/partition-assigner.js'

t.test('GET /consumers: live entries, filters, and syrup-kafka entries both ways', async t => {
  const key = registryKey(t)
  const app = await gateway(t, key)
  const self = app.kafka.clientId
  const topic = await createTopic(app, 3)
  const other = await createTopic(app, 1)
  const hook = await startReceiver(t)
  const rr = uniqueName('rr')
  const pa = uniqueName('pa')
  await defineGroups(app, {
    [rr]: { isPartitionAssign: false, topics: [{ name: topic }, { name: other }], webhook: { url: hook.url }, consumer: FAST_CONSUMER },
    [pa]: { isPartitionAssign: true, topics: [{ name: topic, partitions: [2] }], webhook: { url: hook.url }, consumer: FAST_CONSUMER }
  })
  await waitForAssignment(app, rr, topic, [self], 3)
  await waitForAssignment(app, pa, topic, [self], 1)
  await waitForAssignment(app, rr, other, [self], 1)

  const all = await registry(app)
  const entry = all[self]
  t.ok(entry !== undefined)
  // two groups of one instance on one topic: both listed; the top level is the custom-assigner one
  t.equal(entry?.[topic]?.groupId, pa)
  t.equal(entry?.[topic]?.groupProtocol, 'custom-assigner')
  t.same(entry?.[topic]?.partitions, [2])
  t.same(entry?.[topic]?.groups?.map(g => g.groupId), [pa, rr].sort())
  t.same(entry?.[other]?.groups?.map(g => g.groupId), [rr])

  const byGroup = await registry(app, `?groupId=${rr}`)
  t.equal(byGroup[self]?.[topic]?.groupId, rr, 'with groupId the top level describes that group')
  t.same(byGroup[self]?.[topic]?.partitions, [0, 1, 2])
  const byTopic = await registry(app, `?topic=${other}`)
  t.same(Object.keys(byTopic[self] ?? {}), [other])
  t.same(await registry(app, `?clientId=${uniqueName('nobody')}`), {})
  const bad = await app.inject({ method: 'GET', url: '/consumers?colour=red' })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().details[0].field, 'querystring/colour')

  // a syrup-kafka process: a consumer with a custom-assigner group on partition 1, and its entry written as syrup-kafka writes it
  const syrupGroup = uniqueName('syrup-group')
  const consumer = app.kafka.kafka.consumer({ groupId: syrupGroup, partitionAssigners: [declaredPartitionAssigner({ [topic]: [1] })], sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 100 })
  t.teardown(() => consumer.disconnect())
  let memberId = ''
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => { memberId = payload.memberId })
  const seen: Array<{ partition: number, value: string }> = []
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: false })
  await consumer.run({ eachMessage: async ({ partition, message }) => { seen.push({ partition, value: message.value?.toString() ?? '' }) } })
  await waitFor('the syrup consumer to join', () => memberId !== '', 30_000)
  const syrupId = uniqueName('syrup-proc')
  const syrupEntry = { [topic]: { partitions: [1], groupId: syrupGroup, memberId, leaderId: memberId, isLeader: true, groupProtocol: 'custom-assigner' } }
  await app.redis.redis.hset(key, syrupId, JSON.stringify(syrupEntry))

  const withSyrup = await registry(app)
  t.same(withSyrup[syrupId], syrupEntry, 'a syrup-kafka entry is listed as written (it has no heartbeat)')
  t.same((await registry(app, `?groupId=${syrupGroup}`))[syrupId], syrupEntry)

  const sent = await app.inject({ method: 'POST', url: '/messages', payload: { topic, value: 'to-syrup', arrival: syrupId } })
  t.ok(sent.statusCode < 300, `arrival to the syrup entry answered ${sent.statusCode} ${sent.body}`)
  await waitFor('the syrup consumer to receive it', () => seen.some(s => s.value === 'to-syrup'), 30_000)
  t.same(seen.filter(s => s.value === 'to-syrup').map(s => s.partition), [1])

  // and the gateway entry satisfies syrup-kafka's own routing test
  const value = JSON.parse(await app.redis.redis.hget(key, self) ?? '{}')
  t.ok(value[topic].groupProtocol === 'custom-assigner' && value[topic].partitions, 'syrup-kafka routes arrival to the gateway')
  t.same(value[topic].partitions, [2])

  const stopSyrup = await app.inject({ method: 'DELETE', url: `/consumers?clientId=${syrupId}` })
  t.equal(stopSyrup.statusCode, 409, 'a syrup-kafka process cannot be stopped from here')
})

t.test('DELETE /consumers by group, by clientId, both, and without a filter', async t => {
  const key = registryKey(t)
  const idA = uniqueName('gw-a')
  const idB = uniqueName('gw-b')
  const a = await gateway(t, key, idA)
  const b = await gateway(t, key, idB)
  const topic = await createTopic(a, 2)
  const hook = await startReceiver(t)
  const g1 = uniqueName('g1')
  const g2 = uniqueName('g2')
  const def = { isPartitionAssign: false, topics: [{ name: topic }], webhook: { url: hook.url }, consumer: FAST_CONSUMER }
  await defineGroups(a, { [g1]: def, [g2]: def })
  await waitForAssignment(a, g1, topic, [idA, idB], 2)
  await waitForAssignment(a, g2, topic, [idA, idB], 2)

  const none = await a.inject({ method: 'DELETE', url: '/consumers' })
  t.equal(none.statusCode, 400, 'no filter → 400')
  t.match(none.json().message, /all=true/)

  // by clientId (the other instance): b stops all its consumers within a heartbeat; the definitions stay
  const byClient = await a.inject({ method: 'DELETE', url: `/consumers?clientId=${idB}` })
  t.equal(byClient.statusCode, 200)
  t.same(byClient.json(), { definitionsDeleted: [], stopped: [{ clientId: idB, groupId: g1, state: 'stopping' }, { clientId: idB, groupId: g2, state: 'stopping' }].sort((x, y) => x.groupId.localeCompare(y.groupId)) })
  await waitForAssignment(a, g1, topic, [idA], 2)
  await waitForAssignment(a, g2, topic, [idA], 2)
  await waitFor('b to report both groups stopped', async () => {
    const view = (await a.inject({ method: 'GET', url: `/consumer-groups/${g1}` })).json()
    return view.instances[idB]?.state === 'stopped' && view.instances[idB]?.stoppedByRequest === true
  }, 10_000)
  t.notOk((await registry(a))[idB], 'b has no registry entry left')

  // POSTing the group again resumes it on b
  await defineGroups(a, { [g1]: def })
  await waitForAssignment(a, g1, topic, [idA, idB], 2)

  // both filters: only g1 on a (this instance: stopped before the answer)
  const both = await a.inject({ method: 'DELETE', url: `/consumers?clientId=${idA}&groupId=${g1}` })
  t.equal(both.statusCode, 200)
  t.same(both.json(), { definitionsDeleted: [], stopped: [{ clientId: idA, groupId: g1, state: 'stopped' }] })
  t.same(Object.keys((await registry(a, `?groupId=${g1}`))), [idB], 'g1 is gone from a\'s entry at once')
  t.same(Object.keys((await registry(a, `?groupId=${g2}`))), [idA], 'g2 still runs on a')

  // by group: the definition is deleted; every instance stops it
  const byGroup = await b.inject({ method: 'DELETE', url: `/consumers?groupId=${g1}` })
  t.equal(byGroup.statusCode, 200)
  t.same(byGroup.json().definitionsDeleted, [g1])
  t.same(byGroup.json().stopped, [{ clientId: idB, groupId: g1, state: 'stopped' }])
  t.same(await registry(a, `?groupId=${g1}`), {})
  t.equal((await a.inject({ method: 'GET', url: `/consumer-groups/${g1}` })).statusCode, 404)
  t.equal((await a.inject({ method: 'DELETE', url: `/consumers?groupId=${g1}` })).statusCode, 404, 'nothing left to delete')
  t.equal((await a.inject({ method: 'DELETE', url: `/consumers?clientId=${uniqueName('nobody')}` })).statusCode, 404)

  // all=true deletes every definition
  const everything = await a.inject({ method: 'DELETE', url: '/consumers?all=true' })
  t.equal(everything.statusCode, 200)
  t.same(everything.json().definitionsDeleted, [g2])
  t.same(everything.json().stopped, [{ clientId: idA, groupId: g2, state: 'stopped' }])
  await waitFor('the registry to empty', async () => Object.keys(await registry(a)).length === 0, 10_000)
  t.same((await a.inject({ method: 'GET', url: '/consumer-groups' })).json(), { groups: [] })

  // records produced now are not delivered by anyone
  const before = hook.received.length
  await produce(a, topic, 4, 2, 'late')
  t.equal(hook.received.length, before)
})
