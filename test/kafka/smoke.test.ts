import t from 'tap'
import { build, uniqueName, waitFor } from '../helpers/build.js'
import { createTopicsAndWait } from '../../src/kafka/create-topics.js'

t.test('the shared core produces and consumes one message on the real broker', async t => {
  const app = await build(t)
  const topic = uniqueName('smoke')
  const admin = await app.kafka.connectedAdmin()
  await createTopicsAndWait(admin, { topics: [{ topic, numPartitions: 1 }] })
  const producer = await app.kafka.connectedProducer()
  const [meta] = await producer.send({ topic, messages: [{ key: 'k', value: 'hello kafka', headers: { h: 'v' } }] })
  t.equal(meta?.partition, 0)

  const consumer = app.kafka.kafka.consumer({ groupId: uniqueName('smoke-group'), maxWaitTimeInMs: 100 })
  t.teardown(() => consumer.disconnect())
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const seen: Array<{ key: string, value: string, h: string }> = []
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '', h: message.headers?.h?.toString() ?? '' })
    }
  })
  await waitFor('the message', () => seen.length > 0, 30_000)
  t.same(seen, [{ key: 'k', value: 'hello kafka', h: 'v' }])
})
