import t from 'tap'
import { uniqueName, waitFor } from '../helpers/build.js'
import { startReceiver } from './helpers/receiver.js'
import { createTopic, defineGroups, gateway, groupBody, produce, registry, registryKey } from './helpers/kafka.js'

t.test('a round-robin group on one instance delivers every record, tombstones included', async t => {
  const key = registryKey(t)
  const app = await gateway(t, key)
  const topic = await createTopic(app, 3)
  const receiver = await startReceiver(t)
  const groupId = uniqueName('rr')
  const res = await defineGroups(app, groupBody(groupId, { isPartitionAssign: false, topics: [{ name: topic }], webhook: { url: receiver.url } }))
  t.equal(res.statusCode, 201)
  const values = await produce(app, topic, 30, 3)
  const producer = await app.kafka.connectedProducer()
  await producer.send({ topic, messages: [{ key: 'gone', value: null, partition: 0 }] })
  await waitFor('31 deliveries', () => receiver.received.length >= 31, 30_000)
  t.same(receiver.values().filter(v => v !== 'null').sort(), [...values].sort())
  t.ok(receiver.received.some(r => r.body.value === null && r.body.key === 'gone'), 'the tombstone was delivered')
  const reg = await registry(app)
  const entry = reg[app.kafka.clientId]?.[topic]
  t.equal(entry?.groupId, groupId)
  t.equal(entry?.groupProtocol, 'RoundRobinAssigner')
  t.same(entry?.partitions, [0, 1, 2])
})

t.test('dead-lettered records are committed and counted; a failing endpoint blocks only its record', async t => {
  const key = registryKey(t)
  const app = await gateway(t, key)
  const topic = await createTopic(app, 1)
  const dlq = await createTopic(app, 1, 'dlq')
  // 422 is non-retryable (dead-lettered at once); every other record is accepted
  const receiver = await startReceiver(t, r => r.body.value === 'poison' ? 422 : 204)
  const groupId = uniqueName('dl')
  await defineGroups(app, groupBody(groupId, { isPartitionAssign: false, topics: [{ name: topic }], webhook: { url: receiver.url, deadLetterTopic: dlq } }))
  const producer = await app.kafka.connectedProducer()
  await producer.send({ topic, messages: [{ value: 'ok-1' }, { value: 'poison' }, { value: 'ok-2' }] })
  await waitFor('both good records', () => receiver.received.length >= 2, 30_000)
  t.same(receiver.values(), ['ok-1', 'ok-2'], 'in order, the poison record skipped after dead-lettering')
  const status = await waitFor('the status counters', async () => {
    const view = (await app.inject({ method: 'GET', url: `/consumer-groups/${groupId}` })).json()
    const s = view.instances[app.kafka.clientId]
    return s?.delivered === 2 && s?.deadLettered === 1 ? s : undefined
  }, 10_000)
  t.match(status.lastError, /dead-lettered/)

  const consumer = app.kafka.kafka.consumer({ groupId: uniqueName('dlq-reader'), maxWaitTimeInMs: 100 })
  t.teardown(() => consumer.disconnect())
  const dead: string[] = []
  await consumer.connect()
  await consumer.subscribe({ topics: [dlq], fromBeginning: true })
  await consumer.run({ eachMessage: async ({ message }) => { dead.push(message.value?.toString() ?? '') } })
  await waitFor('the dead letter', () => dead.length > 0, 30_000)
  t.same(dead, ['poison'])
})
