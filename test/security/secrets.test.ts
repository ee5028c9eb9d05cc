/**
 * Security (issue 8, item 3): secrets never leave. Webhook signing secrets, custom webhook header values
 * (an `Authorization: Bearer …` among them), API keys and the Kafka SASL password must not appear in any
 * GET response nor in the logs. The app logs at trace level into a captured stream (kafkajs at debug),
 * defines a group that delivers one real record to a real receiver, one whose receiver fails and echoes
 * the request headers back in its error page, and is sent bad requests; then every GET is read and the
 * whole log is searched for each secret.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { build, captureLogger, uniqueName, waitFor } from '../helpers/build.js'
import { FAST_CONSUMER, createTopic } from '../consumers/helpers/kafka.js'
import { startReceiver } from '../webhooks/fixtures/http.js'
import { generateSecret } from '../../src/webhooks/signing.js'

const rand = (): string => randomBytes(9).toString('hex')

/** Each secret as it could appear: whole, and (signing secrets) the base64 key without `whsec_`. */
function needles (secrets: Record<string, string>): Array<[string, string]> {
  return Object.entries(secrets).flatMap(([name, s]) => s.startsWith('whsec_') ? [[name, s], [`${name} (key)`, s.slice(6)]] : [[name, s]])
}

function leaks (text: string, secrets: Record<string, string>): string[] {
  return needles(secrets).filter(([, s]) => text.includes(s)).map(([name]) => name)
}

async function getAll (app: FastifyInstance, headers: Record<string, string>, urls: string[]): Promise<Array<{ url: string, status: number, body: string }>> {
  const out: Array<{ url: string, status: number, body: string }> = []
  for (const url of urls) {
    const res = await app.inject({ method: 'GET', url, headers })
    out.push({ url, status: res.statusCode, body: res.body })
  }
  return out
}

t.test('webhook secrets, header values and API keys: not in GET responses, not in the logs', async t => {
  const secrets = {
    apiKey: `api-key-${rand()}`,
    otherApiKey: `other-api-key-${rand()}`,
    headerBearer: `s3cr3t-${rand()}`,
    headerToken: `tok-${rand()}`,
    signing: generateSecret(),
    rotatedSigning: generateSecret(),
    failingHeader: `fail-s3cr3t-${rand()}`,
    failingSigning: generateSecret(),
    rejectedHeader: `rejected-${rand()}`
  }
  const { logger, logs } = captureLogger('trace')
  const app = await build(t, { API_KEYS: `${secrets.apiKey},${secrets.otherApiKey}`, LOG_LEVEL: 'trace', REGISTRY_HEARTBEAT_MS: '500' }, logger)
  const auth = { authorization: `Bearer ${secrets.apiKey}` }
  const topic = await createTopic(app, 1, 'sec-secrets')

  const ok = await startReceiver()
  // an error page that echoes what it was sent, as some frameworks' debug pages do
  const failing = await startReceiver(r => ({ status: 500, body: `upstream error; request had authorization=${String(r.headers.authorization)} signature=${String(r.headers['webhook-signature'])}` }))
  t.teardown(async () => { await ok.close(); await failing.close() })

  const okGroup = uniqueName('sec-ok')
  const failGroup = uniqueName('sec-fail')
  const defined = await app.inject({
    method: 'POST',
    url: '/consumer-groups',
    headers: auth,
    payload: {
      [okGroup]: {
        isPartitionAssign: false,
        fromBeginning: true,
        topics: [{ name: topic }],
        webhook: { url: `${ok.url}/hook?x=1`, headers: { Authorization: `Bearer ${secrets.headerBearer}`, 'X-Api-Token': secrets.headerToken }, secrets: [secrets.signing, secrets.rotatedSigning] },
        consumer: FAST_CONSUMER
      },
      [failGroup]: {
        isPartitionAssign: false,
        fromBeginning: true,
        topics: [{ name: topic }],
        webhook: { url: `${failing.url}/fail`, headers: { Authorization: `Bearer ${secrets.failingHeader}` }, secrets: [secrets.failingSigning], maxAttempts: 2, nonRetryableStatuses: [] },
        consumer: FAST_CONSUMER
      }
    }
  })
  t.equal(defined.statusCode, 201, `both groups defined: ${defined.body.slice(0, 200)}`)
  t.same(leaks(defined.body, secrets), [], 'the POST answer holds no secret')

  const produced = await app.inject({ method: 'POST', url: '/messages', headers: auth, payload: { topic, key: 'k', value: { hello: 'secrets test' } } })
  t.equal(produced.statusCode, 200, 'one record produced through POST /messages')

  await waitFor('the delivery to the receiver', () => ok.received.length > 0, 45_000)
  const delivered = ok.received[0]
  t.equal(delivered?.headers.authorization, `Bearer ${secrets.headerBearer}`, 'the custom Authorization header was sent')
  t.equal(delivered?.headers['x-api-token'], secrets.headerToken, 'the custom token header was sent')
  t.match(delivered?.headers['webhook-signature'], /^v1,\S+ v1,\S+$/, 'the record is signed with both secrets')

  await waitFor('the failing webhook to be tried twice and given up', async () => {
    if (failing.received.length < 2) return false
    const res = await app.inject({ method: 'GET', url: `/consumer-groups/${failGroup}`, headers: auth })
    return res.statusCode === 200 && /"deadLettered":[1-9]/.test(res.body)
  }, 60_000, 200)
  t.equal(failing.received[0]?.headers.authorization, `Bearer ${secrets.failingHeader}`, 'the failing receiver got (and echoed) its Authorization header')

  // errors: bad requests that carry secrets, a conflicting redefinition, wrong keys
  const errors: Array<{ name: string, status: number, run: () => Promise<{ statusCode: number, body: string }> }> = [
    {
      name: 'a header value with CR/LF',
      status: 400,
      run: () => app.inject({ method: 'POST', url: '/consumer-groups', headers: auth, payload: { [uniqueName('g')]: { isPartitionAssign: false, topics: [{ name: topic }], webhook: { url: ok.url, headers: { Authorization: `Bearer ${secrets.rejectedHeader}\r\nX: y` } } } } })
    },
    {
      name: 'a malformed signing secret',
      status: 400,
      run: () => app.inject({ method: 'POST', url: '/consumer-groups', headers: auth, payload: { [uniqueName('g')]: { isPartitionAssign: false, topics: [{ name: topic }], webhook: { url: ok.url, secrets: [`${secrets.signing}!`] } } } })
    },
    {
      name: 'a reserved header carrying a secret',
      status: 400,
      run: () => app.inject({ method: 'POST', url: '/consumer-groups', headers: auth, payload: { [uniqueName('g')]: { isPartitionAssign: false, topics: [{ name: topic }], webhook: { url: ok.url, headers: { 'Webhook-Signature': secrets.rejectedHeader } } } } })
    },
    {
      name: 'a conflicting redefinition with other secrets',
      status: 409,
      run: () => app.inject({ method: 'POST', url: '/consumer-groups', headers: auth, payload: { [okGroup]: { isPartitionAssign: false, fromBeginning: true, topics: [{ name: topic }], webhook: { url: `${ok.url}/hook?x=1`, headers: { Authorization: `Bearer ${secrets.rejectedHeader}` }, secrets: [secrets.signing] }, consumer: FAST_CONSUMER } } })
    },
    { name: 'an invalid produce body', status: 400, run: () => app.inject({ method: 'POST', url: '/messages', headers: auth, payload: { topic, value: 1, headers: { 'content-type': secrets.rejectedHeader } } }) },
    { name: 'a produce to an absent topic', status: 404, run: () => app.inject({ method: 'POST', url: '/messages', headers: auth, payload: { topic: 'sec-absent-topic', value: secrets.rejectedHeader } }) },
    { name: 'a wrong API key', status: 401, run: () => app.inject({ method: 'GET', url: '/consumer-groups', headers: { authorization: `Bearer ${secrets.apiKey}x` } }) },
    { name: 'a Basic credential made of the API key', status: 401, run: () => app.inject({ method: 'GET', url: '/consumers', headers: { authorization: `Basic ${Buffer.from(`u:${secrets.apiKey}`).toString('base64')}` } }) }
  ]
  for (const e of errors) {
    const res = await e.run()
    t.equal(res.statusCode, e.status, `${e.name}: ${e.status}`)
    t.same(leaks(res.body, secrets).filter(n => n !== 'rejectedHeader'), [], `${e.name}: no secret in the answer`)
  }

  const gets = await getAll(app, auth, [
    '/consumer-groups', `/consumer-groups/${okGroup}`, `/consumer-groups/${failGroup}`, '/consumers', `/consumers?groupId=${okGroup}`,
    '/openapi.json', '/docs/json', '/metrics', '/health/live', '/health/ready'
  ])
  for (const g of gets) {
    t.equal(g.status, 200, `GET ${g.url}: 200`)
    t.same(leaks(g.body, secrets), [], `GET ${g.url}: no secret (${g.body.length} bytes read)`)
  }
  const view = JSON.parse(gets[1]?.body ?? '{}') as { declarations?: Array<{ webhook: { headers?: string[], secrets?: number } }> }
  t.same(view.declarations?.[0]?.webhook.headers, ['Authorization', 'X-Api-Token'], 'the group view lists header names only')
  t.equal(view.declarations?.[0]?.webhook.secrets, 2, 'the group view counts the secrets')
  const failView = gets[2]?.body ?? ''
  t.match(failView, /upstream error; request had authorization=\[redacted\]/, 'the failing group\'s status shows the receiver\'s error, its echo of our secret scrubbed')

  const text = logs.text()
  t.ok(text.length > 10_000, `the captured log is substantial (${text.length} characters, trace level)`)
  t.match(text, /webhook attempt failed; will retry/, 'the failing delivery was logged')
  t.match(text, /webhook delivery failed; dead-lettering/, 'the dead-lettering was logged')
  t.match(text, /"level":20,[^\n]*"component":"kafkajs"/, 'kafkajs debug lines were written')
  t.same(leaks(text, secrets), [], 'no secret anywhere in the log')
})

t.test('the Kafka SASL password (and a Redis password) are not in GET responses or the logs', async t => {
  const saslPassword = `sasl-pw-${rand()}`
  const redisPassword = `redis-pw-${rand()}`
  const apiKey = `api-key-${rand()}`
  const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0')
  redisUrl.password = redisPassword
  const { logger, logs } = captureLogger('trace')
  // the test broker has no SASL listener: the SASL handshake fails, which is logged (and must not carry the password)
  const app = await build(t, {
    API_KEYS: apiKey,
    LOG_LEVEL: 'trace',
    KAFKA_SASL_MECHANISM: 'plain',
    KAFKA_SASL_USERNAME: 'gateway-user',
    KAFKA_SASL_PASSWORD: saslPassword,
    KAFKA_CONNECTION_TIMEOUT_MS: '1000',
    KAFKA_REQUEST_TIMEOUT_MS: '2000',
    REDIS_URL: redisUrl.toString()
  }, logger)
  const auth = { authorization: `Bearer ${apiKey}` }
  const secrets = { saslPassword, redisPassword, apiKey }

  const produce = await app.inject({ method: 'POST', url: '/messages', headers: auth, payload: { topic: 'sec-sasl-topic', value: 1 } })
  t.ok(produce.statusCode >= 400 && produce.statusCode < 600, `a produce fails (${produce.statusCode})`)
  t.same(leaks(produce.body, secrets), [], 'the produce error holds no secret')

  const gets = await getAll(app, auth, ['/health/ready', '/health/live', '/openapi.json', '/metrics', '/consumer-groups', '/consumers'])
  for (const g of gets) t.same(leaks(g.body, secrets), [], `GET ${g.url} (${g.status}): no secret`)
  const text = logs.text()
  t.ok(text.length > 1000, `the captured log is not empty (${text.length} characters)`)
  t.same(leaks(text, secrets), [], 'no secret anywhere in the log')
})
