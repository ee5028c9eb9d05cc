/**
 * One request id from the POST that produced a record to the webhook that received it: echoed in the
 * response, on the request's log line, as the record's `x-request-id` header, and as the webhook
 * request's `x-request-id` header. Real broker, real Redis, a real node:http receiver.
 */
import type { LightMyRequestResponse } from 'fastify'
import kafkajs, { type IHeaders } from 'kafkajs'
import t from 'tap'
import { build, captureLogger, uniqueName, waitFor } from '../helpers/build.js'
import { startReceiver } from '../consumers/helpers/receiver.js'
import { createTopicsAndWait } from '../../src/kafka/create-topics.js'

const FAST_CONSUMER = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, rebalanceTimeoutMs: 10_000, maxWaitTimeMs: 100 }
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function headerText (headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name]
  const first = Array.isArray(v) ? v[0] : v
  return first === undefined ? undefined : first.toString()
}

t.test('X-Request-Id travels from POST /messages to the response, the log, the Kafka header and the webhook', async t => {
  const { logger, logs } = captureLogger('info')
  // a long linger so that concurrent requests share one Kafka batch: each record must keep its own id
  const app = await build(t, { REGISTRY_HEARTBEAT_MS: '500', PRODUCE_LINGER_MS: '50' }, logger)
  const topic = uniqueName('rid')
  const admin = await app.kafka.connectedAdmin()
  await createTopicsAndWait(admin, { topics: [{ topic, numPartitions: 2 }] })
  const hook = await startReceiver(t)
  const groupId = uniqueName('rid-group')
  const defined = await app.inject({
    method: 'POST',
    url: '/consumer-groups',
    payload: { [groupId]: { isPartitionAssign: false, fromBeginning: true, topics: [{ name: topic }], webhook: { url: hook.url }, consumer: FAST_CONSUMER } }
  })
  t.ok(defined.statusCode < 300, `group defined: ${defined.statusCode} ${defined.body}`)

  const post = (value: string, requestId?: string): Promise<LightMyRequestResponse> => app.inject({
    method: 'POST',
    url: '/messages',
    headers: requestId === undefined ? {} : { 'x-request-id': requestId },
    payload: { topic, messages: [{ value }] }
  })

  // five concurrent requests with their own ids, one without, one with an id that is not safe to forward
  const given = Array.from({ length: 5 }, (_v, i) => ({ value: `given-${i}`, id: `trace-${uniqueName('rid')}-${i}` }))
  const responses = await Promise.all([
    ...given.map(g => post(g.value, g.id)),
    post('generated'),
    post('unsafe', 'bad id with spaces')
  ])
  for (const res of responses) t.equal(res.statusCode, 200, res.body)
  given.forEach((g, i) => t.equal(responses[i]?.headers['x-request-id'], g.id, `response ${i} echoes its X-Request-Id`))
  const generatedId = String(responses[5]?.headers['x-request-id'])
  const replacedId = String(responses[6]?.headers['x-request-id'])
  t.match(generatedId, UUID, 'an id is generated when none is given')
  t.match(replacedId, UUID, 'an unsafe id is replaced by a generated one')
  t.ok(app.produce.stats().largestBatch > 1, `concurrent requests shared a Kafka batch (largest ${app.produce.stats().largestBatch} records)`)
  const expected = new Map<string, string>([...given.map(g => [g.value, g.id] as [string, string]), ['generated', generatedId], ['unsafe', replacedId]])

  // one log line per request, carrying its id
  const requestLines = logs.lines().filter(l => l.msg === 'request' && l.route === '/messages')
  for (const [value, id] of expected) {
    const mine = requestLines.filter(l => l.reqId === id)
    t.equal(mine.length, 1, `one request log line with reqId ${id} (${value})`)
    t.match(mine[0], { method: 'POST', route: '/messages', status: 200, durationMs: Number })
  }
  t.notOk(logs.text().includes('bad id with spaces'), 'the unsafe id never reaches the log')

  // the produced records carry the id as the x-request-id header
  const kafka = new kafkajs.Kafka({ clientId: uniqueName('rid-test'), brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), logLevel: kafkajs.logLevel.NOTHING })
  const consumer = kafka.consumer({ groupId: uniqueName('rid-readback'), maxWaitTimeInMs: 100 })
  t.teardown(() => consumer.disconnect())
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  const recordIds = new Map<string, string | undefined>()
  const departures = new Set<string | undefined>()
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.value === null) return
      recordIds.set(message.value.toString('utf8'), headerText(message.headers, 'x-request-id'))
      departures.add(headerText(message.headers, 'departure'))
    }
  })
  await waitFor('every record read back', () => recordIds.size >= expected.size, 30_000)
  t.same(Object.fromEntries(recordIds), Object.fromEntries(expected), 'each record\'s x-request-id header is its request\'s id')
  t.same([...departures], [app.kafka.clientId], 'and departure names this gateway')

  // the webhook receiving each record gets the same id
  await waitFor('every record delivered', () => hook.received.length >= expected.size, 30_000)
  const hookIds = Object.fromEntries(hook.received.map(r => [String(r.body.value), r.headers['x-request-id']]))
  t.same(hookIds, Object.fromEntries(expected), 'each webhook request carries x-request-id = the id of the POST that produced the record')
})
