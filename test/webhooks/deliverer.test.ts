/** The deliverer against real HTTP receivers (no broker: these webhooks never reach the dead-letter topic). */
import t, { type Test } from 'tap'
import { performance } from 'node:perf_hooks'
import { Webhook } from 'standardwebhooks'
import { pino, type Logger } from 'pino'
import { captureLogger, waitFor } from '../helpers/build.js'
import { createDeliverer, type DelivererDeps } from '../../src/webhooks/delivery/deliverer.js'
import { userAgentFor } from '../../src/webhooks/delivery/user-agent.js'
import { generateSecret } from '../../src/webhooks/signing.js'
import { CONTENT_TYPES } from '../../src/kafka/record-format.js'
import type { DeliveryEvent, WebhookConfig } from '../../src/webhooks/types.js'
import type { WebhookEnvelope } from '../../src/webhooks/envelope.js'
import { freePort } from '../../scripts/lib/launch/free-port.js'
import { context, record, startReceiver, type Receiver } from './fixtures/http.js'

const noKafka = async (): Promise<never> => { throw new Error('no kafka in this test') }

function deliverer (t: Test, over: Partial<DelivererDeps> = {}, logger: Logger = pino({ level: 'silent' })): { d: ReturnType<typeof createDeliverer>, events: DeliveryEvent[] } {
  const events: DeliveryEvent[] = []
  const d = createDeliverer({
    getProducer: noKafka,
    getAdmin: noKafka,
    logger,
    userAgent: userAgentFor('0.1.0-test'),
    defaults: { timeoutMs: 5000 },
    observer: e => events.push(e),
    backoff: { initialMs: 20, maxMs: 100 },
    heartbeatIntervalMs: 100,
    ...over
  })
  t.teardown(() => d.close())
  return { d, events }
}

async function receiver (t: Test, ...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args)
  t.teardown(() => r.close())
  return r
}

const plainHeaders = (h: Record<string, string | string[] | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(h).filter((e): e is [string, string] => typeof e[1] === 'string'))

t.test('a signed POST: envelope body, Standard Webhooks headers verified by standardwebhooks for each rotated secret', async t => {
  const rx = await receiver(t)
  const { d, events } = deliverer(t)
  const s1 = generateSecret()
  const s2 = generateSecret()
  const webhook: WebhookConfig = { url: `${rx.url}/hooks/orders?token=abc`, secrets: [s1, s2], headers: { Authorization: 'Bearer tok', 'X-Tenant': 'acme' } }
  const { ctx } = context(webhook, 'g-sign')
  const out = await d.deliver(record({ headers: { 'content-type': 'application/json', 'x-request-id': 'req-123' } }), ctx)
  t.same(out, { outcome: 'delivered', attempts: 1, status: 204 })
  t.equal(rx.received.length, 1)
  const [req] = rx.received
  if (req === undefined) throw new Error('no request')
  t.equal(req.method, 'POST')
  t.equal(req.url, '/hooks/orders?token=abc')
  t.equal(req.headers['content-type'], 'application/json')
  t.equal(req.headers['user-agent'], 'kafka-http-gateway/0.1.0-test')
  t.equal(req.headers.authorization, 'Bearer tok')
  t.equal(req.headers['x-tenant'], 'acme')
  t.equal(req.headers['x-request-id'], 'req-123', 'the record\'s request id travels on')
  t.match(req.headers['webhook-id'], /^msg_/)
  t.equal(req.headers['webhook-signature']?.toString().split(' ').length, 2)
  const headers = plainHeaders(req.headers)
  const env = JSON.parse(req.body) as WebhookEnvelope
  t.same(new Webhook(s1).verify(req.body, headers), env, 'first secret alone verifies')
  t.same(new Webhook(s2).verify(req.body, headers), env, 'second secret alone verifies')
  t.throws(() => new Webhook(generateSecret()).verify(req.body, headers))
  t.match(env, { topic: 'orders', partition: 2, offset: '42', key: 'k-1', value: { a: 1 }, valueEncoding: 'json' })
  t.same(events.map(e => e.kind), ['attempt', 'delivered'])
  t.match(events[1], { groupId: 'g-sign', topic: 'orders', partition: 2, offset: '42', status: 204, attempt: 1 })
  t.ok((events[1]?.durationMs ?? -1) >= 0, 'fetch-to-2xx latency reported')
})

t.test('retry then success: same webhook-id, a fresh timestamp and a valid signature on every attempt', async t => {
  let skew = 0
  const rx = await receiver(t, (_r, i) => {
    skew += 3000 // each attempt happens "3 s later" for the deliverer's clock
    return i < 2 ? { status: i === 0 ? 503 : 500, body: 'try later' } : { status: 200, body: 'ok' }
  })
  const { d, events } = deliverer(t, { now: () => Date.now() + skew })
  const secret = generateSecret()
  const { ctx } = context({ url: rx.url, secrets: [secret] })
  const out = await d.deliver(record(), ctx)
  t.same(out, { outcome: 'delivered', attempts: 3, status: 200 })
  t.equal(rx.received.length, 3)
  const ids = new Set(rx.received.map(r => r.headers['webhook-id']))
  t.equal(ids.size, 1, 'webhook-id stable across retries')
  const stamps = rx.received.map(r => Number(r.headers['webhook-timestamp']))
  t.equal(new Set(stamps).size, 3, 'a new timestamp per attempt')
  for (const r of rx.received) {
    t.equal(r.body, rx.received[0]?.body, 'same body')
    const expected = new Webhook(secret).sign(String(r.headers['webhook-id']), new Date(Number(r.headers['webhook-timestamp']) * 1000), r.body)
    t.equal(r.headers['webhook-signature'], expected, 'signature over this attempt\'s id.timestamp.body')
  }
  // the last attempt's signature verifies against the reference implementation (its timestamp is recent enough)
  const last = rx.received[2]
  if (last !== undefined) t.ok(new Webhook(secret).verify(last.body, plainHeaders(last.headers)))
  t.same(events.map(e => e.kind), ['attempt', 'retry-scheduled', 'attempt', 'retry-scheduled', 'attempt', 'delivered'])
  t.match(events[1], { status: 503, error: /503 Service Unavailable: try later/ })
})

t.test('Retry-After in seconds is honoured', async t => {
  const rx = await receiver(t, (_r, i) => i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 204 })
  const { d, events } = deliverer(t)
  const out = await d.deliver(record(), context({ url: rx.url }).ctx)
  t.equal(out.outcome, 'delivered')
  const [a, b] = rx.received
  if (a === undefined || b === undefined) throw new Error('two requests expected')
  const gap = b.at - a.at
  t.ok(gap >= 1000 - 5, `gap ${gap.toFixed(0)} ms >= 1000 ms`)
  t.match(events.find(e => e.kind === 'retry-scheduled'), { delayMs: 1000, status: 429 })
})

t.test('Retry-After as an HTTP date is honoured', async t => {
  let date = ''
  let secondAt = 0
  const rx = await receiver(t, (_r, i) => {
    if (i === 0) {
      date = new Date(Date.now() + 2000).toUTCString() // second precision: at least 1 s ahead
      return { status: 503, headers: { 'retry-after': date } }
    }
    secondAt = Date.now()
    return { status: 204 }
  })
  const { d } = deliverer(t)
  const out = await d.deliver(record(), context({ url: rx.url }).ctx)
  t.equal(out.outcome, 'delivered')
  t.ok(secondAt >= Date.parse(date) - 5, `retried at ${new Date(secondAt).toISOString()}, not before ${date}`)
  const [a, b] = rx.received
  if (a !== undefined && b !== undefined) t.ok(b.at - a.at >= 1000 - 5, 'at least a second later')
})

t.test('3xx is a failure and the redirect is not followed', async t => {
  const target = await receiver(t)
  const rx = await receiver(t, () => ({ status: 302, headers: { location: `${target.url}/elsewhere` } }))
  const { d, events } = deliverer(t)
  const { ctx, controller } = context({ url: rx.url, deadLetterTopic: false })
  const pending = d.deliver(record(), ctx)
  await waitFor('two attempts', () => rx.received.length >= 2)
  controller.abort()
  const out = await pending
  t.equal(out.outcome, 'aborted')
  t.equal(target.received.length, 0, 'the redirect target never received the request')
  t.match(events.find(e => e.kind === 'retry-scheduled'), { status: 302, error: /redirects are not followed; Location: http:\/\/127\.0\.0\.1:\d+\/elsewhere/ })
})

t.test('endpoint down (connection refused), then up: delivered', async t => {
  const port = await freePort()
  const { d, events } = deliverer(t)
  const pending = d.deliver(record(), context({ url: `http://127.0.0.1:${port}/hook` }).ctx)
  await waitFor('two refused attempts', () => events.filter(e => e.kind === 'attempt' && e.error !== undefined).length >= 2)
  t.match(events.find(e => e.kind === 'attempt'), { error: /ECONNREFUSED/ })
  const rx = await receiver(t, undefined, port)
  const out = await pending
  t.equal(out.outcome, 'delivered')
  t.ok(out.attempts >= 3)
  t.equal(rx.received.length, 1)
})

t.test('a timeout is a retryable failure', async t => {
  const rx = await receiver(t, (_r, i) => i === 0 ? new Promise(resolve => setTimeout(() => resolve({ status: 204 }), 3000)) : { status: 204 })
  const { d, events } = deliverer(t)
  const out = await d.deliver(record(), context({ url: rx.url, timeoutMs: 300 }).ctx)
  t.same(out, { outcome: 'delivered', attempts: 2, status: 204 })
  t.match(events[0], { kind: 'attempt', error: 'timeout after 300 ms' })
  t.ok((events[0]?.durationMs ?? 0) >= 300 - 5)
})

t.test('the abort signal stops a waiting retry promptly with "aborted"', async t => {
  const rx = await receiver(t, () => ({ status: 503 }))
  const { d, events } = deliverer(t, { backoff: { initialMs: 60_000, maxMs: 60_000, jitter: 0 } })
  const { ctx, controller } = context({ url: rx.url })
  const pending = d.deliver(record(), ctx)
  await waitFor('the retry to be scheduled', () => events.some(e => e.kind === 'retry-scheduled'))
  const t0 = performance.now()
  controller.abort()
  const out = await pending
  t.same(out, { outcome: 'aborted', attempts: 1, reason: 'aborted' })
  t.ok(performance.now() - t0 < 30_000, 'did not wait for the 60 s backoff')
  t.equal(events.at(-1)?.kind, 'aborted')
})

t.test('the abort signal stops an in-flight request', async t => {
  const rx = await receiver(t, () => new Promise(() => {}))
  const { d } = deliverer(t)
  const { ctx, controller } = context({ url: rx.url, timeoutMs: 60_000 })
  const pending = d.deliver(record(), ctx)
  await waitFor('the request', () => rx.received.length === 1)
  controller.abort()
  t.same(await pending, { outcome: 'aborted', attempts: 1, reason: 'aborted' })
  const { ctx: ctx2, controller: c2 } = context({ url: rx.url })
  c2.abort()
  t.same(await d.deliver(record(), ctx2), { outcome: 'aborted', attempts: 0, reason: 'aborted' }, 'an aborted signal: no attempt at all')
})

t.test('heartbeats keep coming while a retry waits', async t => {
  const rx = await receiver(t, (_r, i) => i === 0 ? { status: 503 } : { status: 204 })
  const { d } = deliverer(t, { backoff: { initialMs: 1500, maxMs: 1500, jitter: 0 }, heartbeatIntervalMs: 100 })
  const { ctx, heartbeats } = context({ url: rx.url })
  const out = await d.deliver(record(), ctx)
  t.equal(out.outcome, 'delivered')
  const [a, b] = rx.received
  if (a === undefined || b === undefined) throw new Error('two requests expected')
  const during = heartbeats.filter(h => h > a.at && h < b.at)
  t.ok(during.length >= 3, `${during.length} heartbeats during the 1.5 s wait`)
})

t.test('a heartbeat that reports a rebalance ends the delivery as aborted', async t => {
  const rx = await receiver(t, () => ({ status: 503 }))
  const { d } = deliverer(t, { backoff: { initialMs: 60_000, maxMs: 60_000, jitter: 0 }, heartbeatIntervalMs: 50 })
  const { ctx } = context({ url: rx.url }, 'g', async () => {
    throw Object.assign(new Error('The group is rebalancing, so a rejoin is needed'), { type: 'REBALANCE_IN_PROGRESS' })
  })
  const out = await d.deliver(record(), ctx)
  t.match(out, { outcome: 'aborted', attempts: 1, reason: /membership lost \(REBALANCE_IN_PROGRESS\)/ })
})

t.test('without a dead-letter topic nothing is given up: a 400 is retried until accepted', async t => {
  const rx = await receiver(t, (_r, i) => i < 3 ? { status: 400, body: 'bad' } : { status: 202 })
  const { d } = deliverer(t)
  const out = await d.deliver(record(), context({ url: rx.url, deadLetterTopic: false, maxAttempts: 1 }).ctx)
  t.same(out, { outcome: 'delivered', attempts: 4, status: 202 })
})

t.test('binary, text, JSON and "123"-as-text values round-trip exactly', async t => {
  const rx = await receiver(t)
  const { d } = deliverer(t)
  const values: Array<{ value: Buffer | null, headers: Record<string, string> }> = [
    { value: Buffer.from('123'), headers: { 'content-type': CONTENT_TYPES.text } },
    { value: Buffer.from('123'), headers: {} },
    { value: Buffer.from('{"big":12345678901234567890,"s":"✓"}'), headers: { 'content-type': CONTENT_TYPES.json } },
    { value: Buffer.from([0x00, 0xff, 0xfe, 0x10, 0x80, 0x0a]), headers: { 'content-type': CONTENT_TYPES.binary } },
    { value: Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), headers: {} },
    { value: Buffer.from('plain ✓ text\r\n'), headers: { 'content-type': CONTENT_TYPES.text } },
    { value: null, headers: {} }
  ]
  for (const [i, v] of values.entries()) {
    const out = await d.deliver(record({ offset: String(i), value: v.value, headers: v.headers }), context({ url: rx.url }).ctx)
    t.equal(out.outcome, 'delivered')
  }
  t.equal(rx.received.length, values.length)
  for (const [i, r] of rx.received.entries()) {
    const env = JSON.parse(r.body) as WebhookEnvelope
    const expected = values[i]?.value ?? null
    const got = env.valueEncoding === null
      ? null
      : env.valueEncoding === 'base64'
        ? Buffer.from(env.value as string, 'base64')
        : env.valueEncoding === 'utf8' ? Buffer.from(env.value as string, 'utf8') : null
    if (env.valueEncoding === 'json') {
      t.ok(r.body.includes('"value":{"big":12345678901234567890,"s":"✓"}'), 'JSON value verbatim, all digits')
    } else {
      t.same(got, expected, `value ${i} (${env.valueEncoding})`)
    }
  }
  const first = JSON.parse(rx.received[0]?.body ?? '{}') as WebhookEnvelope
  const second = JSON.parse(rx.received[1]?.body ?? '{}') as WebhookEnvelope
  t.equal(first.value, '123')
  t.equal(second.value, '123')
  t.equal(second.valueEncoding, 'utf8')
})

t.test('logs carry origin+path, status and attempt, never secrets, custom header values or the query string', async t => {
  const rx = await receiver(t, (_r, i) => i === 0 ? { status: 500, body: 'boom' } : { status: 204 })
  const { logger, logs } = captureLogger('debug')
  const { d } = deliverer(t, {}, logger)
  const secret = generateSecret()
  const webhook: WebhookConfig = {
    url: `${rx.url}/private/hook?api_key=QUERYSECRET`,
    secrets: [secret, 'whsec_invalid'],
    headers: { Authorization: 'Bearer HEADERSECRET', 'Bad Header': 'x' }
  }
  const out = await d.deliver(record(), context(webhook).ctx)
  t.equal(out.outcome, 'delivered')
  const text = logs.text()
  for (const s of ['QUERYSECRET', 'HEADERSECRET', secret, secret.slice(6), 'whsec_invalid']) t.notOk(text.includes(s), `no ${s.slice(0, 12)}… in logs`)
  const warn = logs.lines().find(l => l.msg === 'webhook attempt failed; will retry')
  t.match(warn, { url: `${rx.url}/private/hook`, attempt: 1, status: 500, err: /500 Internal Server Error: boom/ })
  t.ok(logs.lines().some(l => l.msg === 'webhook secret ignored' && l.secretIndex === 1))
  t.notOk(rx.received[0]?.headers['bad header'], 'an invalid custom header is not sent')
})

t.test('a closed deliverer aborts in-flight deliveries and refuses new ones', async t => {
  const rx = await receiver(t, () => ({ status: 503 }))
  const { d } = deliverer(t, { backoff: { initialMs: 60_000, maxMs: 60_000 } })
  const pending = d.deliver(record(), context({ url: rx.url }).ctx)
  await waitFor('the first attempt', () => rx.received.length === 1)
  await d.close()
  t.match(await pending, { outcome: 'aborted', reason: 'deliverer closed' })
  t.match(await d.deliver(record(), context({ url: rx.url }).ctx), { outcome: 'aborted', attempts: 0 })
})

t.test('keep-alive: consecutive deliveries reuse connections', async t => {
  const rx = await receiver(t)
  const { d } = deliverer(t)
  for (let i = 0; i < 5; i++) {
    t.equal((await d.deliver(record({ offset: String(i) }), context({ url: rx.url }).ctx)).outcome, 'delivered')
  }
  t.equal(rx.received.length, 5)
  const sockets = new Set(rx.received.map(r => r.remotePort)).size
  t.ok(sockets < 5, `${sockets} connections for 5 requests`)
})

t.test('many concurrent deliveries sharing one signal: one listener, no MaxListeners warning, all aborted together', async t => {
  const warnings: Error[] = []
  const onWarning = (w: Error): void => { warnings.push(w) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const rx = await receiver(t, () => ({ status: 503 }))
  const { d } = deliverer(t, { backoff: { initialMs: 60_000, maxMs: 60_000 }, connectionsPerOrigin: 8 })
  const controller = new AbortController()
  const pending = Array.from({ length: 40 }, (_, i) => {
    const { ctx } = context({ url: rx.url })
    return d.deliver(record({ partition: i, offset: String(i) }), { ...ctx, signal: controller.signal })
  })
  await waitFor('40 first attempts', () => rx.received.length >= 40)
  controller.abort()
  const outs = await Promise.all(pending)
  t.ok(outs.every(o => o.outcome === 'aborted'))
  t.same(warnings.filter(w => w.name === 'MaxListenersExceededWarning'), [])
})

t.test('a name resolving to a blocked address is refused at connect time: permanent, no request reaches it', async t => {
  const rx = await receiver(t)
  const { d, events } = deliverer(t, { blockedAddresses: ['127.0.0.0/8', '::1/128'] })
  const { ctx, controller } = context({ url: `http://localhost:${new URL(rx.url).port}/x`, deadLetterTopic: false })
  const pending = d.deliver(record(), ctx)
  await waitFor('an attempt', () => events.some(e => e.kind === 'attempt'))
  controller.abort()
  t.equal((await pending).outcome, 'aborted')
  t.match(events.find(e => e.kind === 'attempt'), { error: /"localhost" resolves to .*, a blocked address \(WEBHOOK_BLOCKED_ADDRESSES\)/ })
  t.equal(rx.received.length, 0, 'nothing reached the receiver')
  // the same name with an empty block list is delivered
  const open = deliverer(t)
  const { ctx: ctx2 } = context({ url: `http://localhost:${new URL(rx.url).port}/x` })
  t.match(await open.d.deliver(record(), ctx2), { outcome: 'delivered', status: 204 })
})

t.test('a URL the allow-list (or scheme) refuses fails permanently, with no request', async t => {
  const rx = await receiver(t)
  const { d, events } = deliverer(t, { allowedHosts: ['hooks.example.com'] })
  const { ctx, controller } = context({ url: `${rx.url}/x`, deadLetterTopic: false })
  const pending = d.deliver(record(), ctx)
  await waitFor('an attempt', () => events.some(e => e.kind === 'attempt'))
  controller.abort()
  t.equal((await pending).outcome, 'aborted')
  t.match(events.find(e => e.kind === 'attempt'), { error: /webhook URL refused: host "127.0.0.1" is not in the allowed hosts/ })
  t.equal(rx.received.length, 0)
  const { ctx: ctx2, controller: c2 } = context({ url: 'ftp://127.0.0.1/x', deadLetterTopic: false })
  const pending2 = d.deliver(record(), ctx2)
  await waitFor('an ftp attempt', () => events.some(e => e.kind === 'attempt' && /http or https/.test(e.error ?? '')))
  c2.abort()
  t.equal((await pending2).outcome, 'aborted')
})
