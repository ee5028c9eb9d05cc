/**
 * https webhooks with a private CA, for real: certificates made with openssl in the test
 * (helpers/certs.ts), node:https receivers, dead letters on the real broker. The CA is trusted through
 * WEBHOOK_CA_FILE's options, a receiver requiring mTLS gets the client certificate, and a certificate
 * that does not verify is retried like any network error and then dead-lettered with the TLS error.
 */
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import type { ServerOptions } from 'node:https'
import type { KafkaMessage } from 'kafkajs'
import { uniqueName, waitFor } from '../helpers/build.js'
import { makePki, type CertFiles, type TestPki } from '../helpers/certs.js'
import { webhookTlsOptions } from '../../src/config/tls-files.js'
import { DLQ_HEADERS } from '../../src/webhooks/dead-letter.js'
import { FAST_CONSUMER, createTopic, defineGroup, e2eGateway, postMessages } from '../e2e/helpers/gateway.js'
import { context, record, startReceiver, type Receiver } from './fixtures/http.js'
import { brokerDeliverer, header, kafkaCore, readTopic } from './fixtures/kafka.js'

/** An https receiver with certificate `c`; with `mtlsCa`, it requires a client certificate that CA signed. */
async function httpsReceiver (t: Test, c: CertFiles, mtlsCa?: string): Promise<Receiver> {
  const tls: ServerOptions = { cert: readFileSync(c.cert), key: readFileSync(c.key) }
  if (mtlsCa !== undefined) Object.assign(tls, { requestCert: true, rejectUnauthorized: true, ca: readFileSync(mtlsCa) })
  const rx = await startReceiver(undefined, 0, tls)
  t.teardown(() => rx.close())
  return rx
}

function only (messages: KafkaMessage[]): KafkaMessage {
  const [m] = messages
  if (m === undefined || messages.length !== 1) throw new Error(`expected one message, got ${messages.length}`)
  return m
}

const caOnly = (pki: TestPki) => webhookTlsOptions({ caFile: pki.ca, certFile: undefined, keyFile: undefined })
const withClientCert = (pki: TestPki) => webhookTlsOptions({ caFile: pki.ca, certFile: pki.client.cert, keyFile: pki.client.key })

t.test('deliverer', async t => {
  const pki = await makePki(t)
  const core = await kafkaCore(t)

  t.test('the private CA trusted: delivered to https://127.0.0.1 and https://localhost; Node\'s CAs alone refuse it', async t => {
    const rx = await httpsReceiver(t, pki.server)
    const { d } = brokerDeliverer(t, core, { tls: caOnly(pki) })
    t.match(await d.deliver(record({ offset: '1' }), context({ url: `${rx.url}/hook` }).ctx), { outcome: 'delivered', attempts: 1, status: 204 })
    t.match(await d.deliver(record({ offset: '2' }), context({ url: `https://localhost:${rx.port}/hook` }).ctx), { outcome: 'delivered', attempts: 1 })
    t.same(rx.received.map(r => r.url), ['/hook', '/hook'])

    const { d: plain } = brokerDeliverer(t, core)
    const out = await plain.deliver(record(), context({ url: `${rx.url}/hook`, maxAttempts: 1 }, uniqueName('tls-untrusted')).ctx)
    t.match(out, { outcome: 'dead-lettered', attempts: 1, status: undefined, error: /UNABLE_TO_VERIFY_LEAF_SIGNATURE/ })
    t.equal(rx.received.length, 2, 'nothing more reached the receiver')
  })

  t.test('mTLS: delivered with the client certificate; refused without it and dead-lettered', async t => {
    const rx = await httpsReceiver(t, pki.server, pki.ca)
    const { d } = brokerDeliverer(t, core, { tls: withClientCert(pki) })
    t.match(await d.deliver(record(), context({ url: rx.url }).ctx), { outcome: 'delivered', attempts: 1 })
    t.equal(rx.received[0]?.clientCn, 'client', 'the receiver verified the client certificate')

    const { d: anonymous } = brokerDeliverer(t, core, { tls: caOnly(pki) })
    const groupId = uniqueName('tls-no-client-cert')
    const out = await anonymous.deliver(record({ offset: '7' }), context({ url: rx.url, maxAttempts: 2 }, groupId).ctx)
    // TLS 1.3: the client's handshake completes before the receiver checks for a certificate; its
    // certificate_required alert then closes the connection, which undici reports as the closure
    t.match(out, { outcome: 'dead-lettered', attempts: 2, status: undefined, error: /^UND_ERR_SOCKET: other side closed \(gave up after 2 attempts/ })
    t.equal(rx.received.length, 1, 'no request without a client certificate')
    t.match(rx.tlsErrors.join('\n'), /peer did not return a certificate/, 'the receiver refused the handshakes')
    const dl = only(await readTopic(core, `${groupId}.dlq`, 1))
    t.equal(header(dl.headers, DLQ_HEADERS.attempts), '2')
    t.match(header(dl.headers, DLQ_HEADERS.error), /^UND_ERR_SOCKET: other side closed/, 'the dead letter carries the failure')
  })

  const mismatches: Array<[string, 'otherCa' | 'wrongHost', RegExp]> = [
    ['a certificate from another CA', 'otherCa', /^UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate \(gave up after 3 attempts/],
    ['a certificate for another host name', 'wrongHost', /^ERR_TLS_CERT_ALTNAME_INVALID: Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.1 .*\(gave up after 3 attempts/]
  ]
  for (const [what, cert, error] of mismatches) {
    t.test(`${what}: retried, then dead-lettered with the TLS error in dlq-error (no dlq-status)`, async t => {
      const rx = await httpsReceiver(t, pki[cert])
      const { d, events } = brokerDeliverer(t, core, { tls: withClientCert(pki) })
      const groupId = uniqueName('tls-mismatch')
      const out = await d.deliver(record(), context({ url: rx.url, maxAttempts: 3 }, groupId).ctx)
      t.match(out, { outcome: 'dead-lettered', attempts: 3, status: undefined, error })
      t.equal(events.filter(e => e.kind === 'retry-scheduled').length, 2, 'two retries')
      t.equal(rx.received.length, 0)
      const dl = only(await readTopic(core, `${groupId}.dlq`, 1))
      t.match(header(dl.headers, DLQ_HEADERS.error), error)
      t.equal(header(dl.headers, DLQ_HEADERS.status), undefined, 'no HTTP status: there was no response')
      t.equal(header(dl.headers, DLQ_HEADERS.attempts), '3')
    })
  }
})

t.test('the gateway: WEBHOOK_CA_FILE and WEBHOOK_CLIENT_CERT_FILE/KEY_FILE reach a receiver requiring mTLS', async t => {
  const pki = await makePki(t)
  const rx = await httpsReceiver(t, pki.server, pki.ca)
  const app = await e2eGateway(t, { env: { WEBHOOK_CA_FILE: pki.ca, WEBHOOK_CLIENT_CERT_FILE: pki.client.cert, WEBHOOK_CLIENT_KEY_FILE: pki.client.key } })
  const topic = await createTopic(app, 1, 'tls-src')
  await postMessages(app, topic, [{ value: 'over-mtls' }])
  await defineGroup(app, uniqueName('tls-group'), { isPartitionAssign: false, fromBeginning: true, topics: [{ name: topic }], consumer: FAST_CONSUMER, webhook: { url: `${rx.url}/hook` } })
  const [hit] = await waitFor('the delivery over mTLS', () => rx.received.length > 0 && rx.received, 30_000)
  t.equal(hit?.clientCn, 'client')
  t.match(JSON.parse(hit?.body ?? '{}'), { topic, value: 'over-mtls' })
})
