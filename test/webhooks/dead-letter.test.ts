/** Dead-lettering against the real broker (KAFKA_BROKERS), with real HTTP receivers. */
import t, { type Test } from 'tap'
import { performance } from 'node:perf_hooks'
import { pino } from 'pino'
import type { KafkaMessage } from 'kafkajs'
import { uniqueName, waitFor } from '../helpers/build.js'
import { createDeadLetterWriter, deadLetterMessage, deadLetterTopicFor, DLQ_HEADERS, MAX_DEAD_LETTER_SEND_BYTES, sendsOf } from '../../src/webhooks/dead-letter.js'
import type { WebhookConfig } from '../../src/webhooks/types.js'
import { freePort } from '../../scripts/lib/launch/free-port.js'
import { context, record, startReceiver, type Receiver, type Reply } from './fixtures/http.js'
import { brokerDeliverer as deliverer, header, kafkaCore, readTopic, topicSize } from './fixtures/kafka.js'
import { createTopicsAndWait } from '../../src/kafka/create-topics.js'

const silent = pino({ level: 'silent' })
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

async function receiver (t: Test, reply?: (r: import('./fixtures/http.js').Received, i: number) => Reply | Promise<Reply>, port?: number): Promise<Receiver> {
  const r = await startReceiver(reply, port)
  t.teardown(() => r.close())
  return r
}

function only (messages: KafkaMessage[]): KafkaMessage {
  const [m] = messages
  if (m === undefined || messages.length !== 1) throw new Error(`expected one message, got ${messages.length}`)
  return m
}

t.test('sendsOf: order kept, each send within MAX_DEAD_LETTER_SEND_BYTES, a larger record alone', async t => {
  const msg = (n: number, bytes: number) => ({ key: null, value: Buffer.alloc(bytes), headers: { n: String(n) } })
  const sends = sendsOf([msg(0, 300_000), msg(1, 300_000), msg(2, 700_000), msg(3, 10), msg(4, 10)])
  t.same(sends.map(s => s.map(m => m.headers?.n)), [['0'], ['1'], ['2'], ['3', '4']])
  t.same(sendsOf([msg(0, 100), msg(1, 100)]).length, 1, 'small ones share a send')
  t.ok(2 * 300_000 > MAX_DEAD_LETTER_SEND_BYTES && 300_000 < MAX_DEAD_LETTER_SEND_BYTES)
  t.same(sendsOf([]), [])
})

t.test('dead-letter topic names', async t => {
  t.equal(deadLetterTopicFor('orders-sink', undefined), 'orders-sink.dlq')
  t.equal(deadLetterTopicFor('g', 'custom'), 'custom')
  t.equal(deadLetterTopicFor('g', false), undefined)
  t.equal(deadLetterTopicFor('a b/c', undefined), 'a_b_c.dlq')
  t.equal(deadLetterTopicFor('x'.repeat(300), undefined)?.length, 249)
})

t.test('broker', async t => {
  const core = await kafkaCore(t)

  t.test('a 404 goes to <groupId>.dlq at once, with the original key, value and headers and every dlq-* header', async t => {
    const rx = await receiver(t, () => ({ status: 404, body: 'no such hook\nhere' }))
    const { d, events } = deliverer(t, core)
    const groupId = uniqueName('dlq-404')
    const binHeader = Buffer.from([0xff, 0x00, 0x01])
    const value = Buffer.from([0x00, 0x01, 0xfe, 0xff])
    const rec = record({
      topic: 'source-topic',
      partition: 3,
      offset: '1234',
      timestamp: '1700000000123',
      key: Buffer.from('order-7'),
      value,
      headers: { 'content-type': 'application/octet-stream', trace: 'abc', bin: binHeader, multi: ['1', '2'] }
    })
    const before = Date.now()
    const out = await d.deliver(rec, context({ url: rx.url }, groupId).ctx)
    t.match(out, { outcome: 'dead-lettered', attempts: 1, status: 404, error: /^HTTP 404 Not Found: no such hook here \(non-retryable status\)$/ })
    t.equal(rx.received.length, 1, 'no retry of a non-retryable status')
    const dlq = `${groupId}.dlq`
    t.equal(await topicSize(core, dlq), 1, 'written before deliver resolved')
    t.same(events.map(e => e.kind), ['attempt', 'dead-lettered'])

    const m = only(await readTopic(core, dlq, 1))
    t.equal(m.key?.toString(), 'order-7')
    t.same(m.value, value, 'value byte-exact')
    t.equal(header(m.headers, 'content-type'), 'application/octet-stream')
    t.equal(header(m.headers, 'trace'), 'abc')
    t.same(m.headers?.bin, binHeader, 'binary header byte-exact')
    t.same((m.headers?.multi as Buffer[]).map(b => b.toString()), ['1', '2'], 'repeated header kept')
    t.equal(header(m.headers, DLQ_HEADERS.originalTopic), 'source-topic')
    t.equal(header(m.headers, DLQ_HEADERS.originalPartition), '3')
    t.equal(header(m.headers, DLQ_HEADERS.originalOffset), '1234')
    t.equal(header(m.headers, DLQ_HEADERS.originalTimestamp), '1700000000123')
    t.equal(header(m.headers, DLQ_HEADERS.groupId), groupId)
    t.equal(header(m.headers, DLQ_HEADERS.status), '404')
    t.match(header(m.headers, DLQ_HEADERS.error), /^HTTP 404 Not Found: no such hook here/)
    t.equal(header(m.headers, DLQ_HEADERS.attempts), '1')
    const first = header(m.headers, DLQ_HEADERS.firstAttemptAt) ?? ''
    const last = header(m.headers, DLQ_HEADERS.lastAttemptAt) ?? ''
    t.match(first, ISO)
    t.match(last, ISO)
    t.ok(Date.parse(first) >= before - 1000 && Date.parse(last) >= Date.parse(first))
  })

  t.test('exhausted retries (maxAttempts 3, 503) go to the dead-letter topic', async t => {
    const rx = await receiver(t, () => ({ status: 503, body: 'down' }))
    const { d } = deliverer(t, core)
    const groupId = uniqueName('dlq-503')
    const out = await d.deliver(record(), context({ url: rx.url, maxAttempts: 3 }, groupId).ctx)
    t.match(out, { outcome: 'dead-lettered', attempts: 3, status: 503, error: /HTTP 503 Service Unavailable: down \(gave up after 3 attempts/ })
    t.equal(rx.received.length, 3)
    const m = only(await readTopic(core, `${groupId}.dlq`, 1))
    t.equal(header(m.headers, DLQ_HEADERS.attempts), '3')
    t.equal(header(m.headers, DLQ_HEADERS.status), '503')
    t.ok(Date.parse(header(m.headers, DLQ_HEADERS.lastAttemptAt) ?? '') >= Date.parse(header(m.headers, DLQ_HEADERS.firstAttemptAt) ?? ''))
    t.equal(m.value?.toString(), '{"a":1}')
  })

  t.test('network errors until the retry budget runs out: custom topic, no dlq-status', async t => {
    const port = await freePort()
    const { d } = deliverer(t, core)
    const groupId = uniqueName('dlq-net')
    const topic = uniqueName('custom-dlq')
    const out = await d.deliver(record(), context({ url: `http://127.0.0.1:${port}/`, maxRetryDurationMs: 300, deadLetterTopic: topic }, groupId).ctx)
    t.match(out, { outcome: 'dead-lettered', status: undefined, error: /ECONNREFUSED.*maxRetryDurationMs 300/ })
    const m = only(await readTopic(core, topic, 1))
    t.equal(header(m.headers, DLQ_HEADERS.status), undefined)
    t.match(header(m.headers, DLQ_HEADERS.error), /ECONNREFUSED/)
  })

  t.test('a URL refused by the allow-list is dead-lettered at once, without a request', async t => {
    const rx = await receiver(t)
    const { d } = deliverer(t, core, { allowedHosts: ['hooks.example.com'] })
    const groupId = uniqueName('dlq-refused')
    const out = await d.deliver(record(), context({ url: rx.url }, groupId).ctx)
    t.match(out, { outcome: 'dead-lettered', attempts: 1, status: undefined, error: /webhook URL refused.*\(not retryable\)/ })
    t.equal(rx.received.length, 0)
    const m = only(await readTopic(core, `${groupId}.dlq`, 1))
    t.match(header(m.headers, DLQ_HEADERS.error), /not in the allowed hosts/)
  })

  t.test('a failing dead-letter write is retried (heartbeats continue) and completes before deliver resolves', async t => {
    const rx = await receiver(t, () => ({ status: 410 }))
    let failures = 0
    const { d } = deliverer(t, core, {
      getProducer: async () => {
        if (failures < 4) { failures++; throw new Error('broker unreachable (simulated)') }
        return await core.connectedProducer()
      }
    })
    const groupId = uniqueName('dlq-retry')
    const { ctx, heartbeats } = context({ url: rx.url }, groupId)
    const out = await d.deliver(record(), ctx)
    t.equal(out.outcome, 'dead-lettered')
    t.equal(failures, 4)
    t.equal(await topicSize(core, `${groupId}.dlq`), 1)
    t.ok(heartbeats.length >= 1, `${heartbeats.length} heartbeats while the write was retried`)
  })

  t.test('an abort while the dead-letter write keeps failing: aborted, nothing committed-worthy', async t => {
    const rx = await receiver(t, () => ({ status: 400 }))
    let calls = 0
    const { d } = deliverer(t, core, { getProducer: async () => { calls++; throw new Error('down') } })
    const groupId = uniqueName('dlq-abort')
    const { ctx, controller } = context({ url: rx.url }, groupId)
    const pending = d.deliver(record(), ctx)
    await waitFor('two failed writes', () => calls >= 2)
    controller.abort()
    t.match(await pending, { outcome: 'aborted', attempts: 1 })
    t.equal(await topicSize(core, `${groupId}.dlq`), 0)
  })

  t.test('two writers creating the same dead-letter topic at once both succeed', async t => {
    const topic = uniqueName('dlq-race')
    const writers = [0, 1, 2].map(() => createDeadLetterWriter({ getProducer: () => core.connectedProducer(), getAdmin: () => core.connectedAdmin(), logger: silent }))
    const signal = new AbortController().signal
    const results = await Promise.all(writers.map((w, i) => w.write(topic, {
      groupId: 'g', record: record({ offset: String(i) }), status: 500, error: 'x', attempts: 1, firstAttemptAt: Date.now(), lastAttemptAt: Date.now()
    }, signal)))
    t.same(results, [true, true, true])
    const msgs = await readTopic(core, topic, 3)
    t.same(msgs.map(m => header(m.headers, DLQ_HEADERS.originalOffset)).sort(), ['0', '1', '2'])
  })

  t.test('a refused batch too large for one produce request is written in several, in order, each record once', async t => {
    const topic = uniqueName('dlq-big')
    const writer = createDeadLetterWriter({ getProducer: () => core.connectedProducer(), getAdmin: () => core.connectedAdmin(), logger: silent })
    // 1000 records of one key (one partition): ~3 MiB with their dlq-error headers, three times the broker's
    // default message.max.bytes in one request
    const at = Date.now()
    const dls = Array.from({ length: 1000 }, (_v, i) => ({
      groupId: 'g', record: record({ offset: String(i), key: Buffer.from('same-key'), value: Buffer.alloc(1024, 'v') }), status: 422, error: 'e'.repeat(2000), attempts: 1, firstAttemptAt: at, lastAttemptAt: at
    }))
    t.ok(sendsOf(dls.map(deadLetterMessage)).length >= 6, 'cut into several sends')
    t.equal(await writer.writeAll(topic, dls, AbortSignal.timeout(60_000)), true, 'written (not refused as too large, retried for good)')
    const msgs = await readTopic(core, topic, 1000)
    t.same(msgs.map(m => header(m.headers, DLQ_HEADERS.originalOffset)), dls.map(d => d.record.offset), 'every record once, in order')
  })

  t.test('end to end with a kafkajs consumer: order kept, 4xx dead-lettered, a stall longer than the session timeout causes no rebalance', { timeout: 120_000 }, async t => {
    const topic = uniqueName('wh-src')
    const groupId = uniqueName('wh-group')
    const admin = await core.connectedAdmin()
    await createTopicsAndWait(admin, { topics: [{ topic, numPartitions: 2 }] })
    const producer = await core.connectedProducer()
    const messages: Array<{ partition: number, key: string, value: string }> = []
    for (let i = 0; i < 10; i++) messages.push({ partition: i % 2, key: `k${i}`, value: JSON.stringify({ i }) })
    await producer.send({ topic, acks: -1, messages: messages.map(m => ({ ...m, headers: { 'content-type': 'application/json' } })) })

    const STALL_MS = 8000 // longer than the 6 s session timeout
    let stallStart: number | undefined
    const rx = await receiver(t, r => {
      const env = JSON.parse(r.body) as { key: string }
      if (env.key === 'k3') return { status: 422, body: 'invalid order' }
      if (env.key === 'k4') {
        stallStart ??= performance.now()
        if (performance.now() - stallStart < STALL_MS) return { status: 503, headers: { 'retry-after': '1' } }
      }
      return { status: 200 }
    })
    const { d } = deliverer(t, core, { heartbeatIntervalMs: 500, backoff: { initialMs: 200, maxMs: 1000 } })
    const webhook: WebhookConfig = { url: rx.url }

    const consumer = core.kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 100 })
    let joins = 0
    consumer.on(consumer.events.GROUP_JOIN, () => { joins++ })
    const stop = new AbortController()
    t.teardown(async () => { stop.abort(); await consumer.disconnect() })
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    let committed = 0
    await consumer.run({
      partitionsConsumedConcurrently: 2,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, heartbeat, resolveOffset, commitOffsetsIfNecessary, isRunning, isStale }) => {
        for (const m of batch.messages) {
          if (!isRunning() || isStale()) return
          const out = await d.deliver({
            topic: batch.topic, partition: batch.partition, offset: m.offset, timestamp: m.timestamp, key: m.key, value: m.value, headers: m.headers ?? {}
          }, { groupId, webhook, signal: stop.signal, heartbeat, fetchedAt: performance.now() })
          if (out.outcome === 'aborted') return
          resolveOffset(m.offset)
          committed++
          await commitOffsetsIfNecessary()
        }
      }
    })
    await waitFor('every message handled', () => committed >= 10, 90_000)
    t.equal(joins, 1, 'one join: the stall did not cost the group membership')
    const ok = rx.received.filter(r => !r.body.includes('"key":"k3"'))
    const delivered = new Map<number, string[]>()
    for (const r of ok) {
      const env = JSON.parse(r.body) as { partition: number, key: string }
      const list = delivered.get(env.partition) ?? []
      if (list.at(-1) !== env.key) list.push(env.key) // retries of one message count once
      delivered.set(env.partition, list)
    }
    t.same(delivered.get(0), ['k0', 'k2', 'k4', 'k6', 'k8'], 'partition 0 in order (k4 retried in place)')
    t.same(delivered.get(1), ['k1', 'k5', 'k7', 'k9'], 'partition 1 in order (k3 dead-lettered)')
    const dead = only(await readTopic(core, `${groupId}.dlq`, 1))
    t.equal(dead.key?.toString(), 'k3')
    t.equal(header(dead.headers, DLQ_HEADERS.originalTopic), topic)
    t.equal(header(dead.headers, DLQ_HEADERS.status), '422')
  })
})
