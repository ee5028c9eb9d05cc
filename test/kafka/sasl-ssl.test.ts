/**
 * The gateway against a broker of its own that requires SASL_SSL (scripts/lib/launch/kafka-security.ts),
 * with certificates made by openssl here. Configured with KAFKA_SSL, KAFKA_SSL_CA_FILE and SCRAM-SHA-512 or
 * PLAIN credentials it produces (POST /messages 200) and delivers to a webhook; with a wrong password the
 * server process stays up, logs that Kafka refused the credentials and answers /health/ready 503 naming kafka.
 */
import t from 'tap'
import { startKafka } from '../../scripts/lib/launch/kafka.js'
import type { SaslUser } from '../../scripts/lib/launch/kafka-security.js'
import { startGateway } from '../../scripts/lib/launch/gateway.js'
import { uniqueName, waitFor } from '../helpers/build.js'
import { makePki } from '../helpers/certs.js'
import { FAST_CONSUMER, createTopic, defineGroup, e2eGateway, postMessages } from '../e2e/helpers/gateway.js'
import { startHook } from '../e2e/helpers/hook.js'

const MECHANISMS = [['scram-sha-512', /SASL SCRAM SHA512 authentication failed/], ['plain', /SASL PLAIN authentication failed/]] as const

interface Ready { status: string, failed: string[], checks: { kafka: { status: string, error?: string } } }

t.test('a broker requiring SASL_SSL', async t => {
  const pki = await makePki(t)
  const users: [SaslUser, ...SaslUser[]] = [{ name: 'broker', password: 'broker-secret' }, { name: 'gateway', password: 'gw-secret-1' }]
  const cluster = await startKafka({ security: { certFile: pki.server.cert, keyFile: pki.server.key, caFile: pki.ca, users } })
  t.teardown(() => cluster.stop())
  const env = (mechanism: string, password: string): Record<string, string> => ({
    KAFKA_BROKERS: cluster.bootstrap,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: pki.ca,
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: 'gateway',
    KAFKA_SASL_PASSWORD: password
  })

  for (const [mechanism] of MECHANISMS) {
    t.test(`${mechanism}: ready, POST /messages 200, delivered to a webhook`, async t => {
      const app = await e2eGateway(t, { env: env(mechanism, 'gw-secret-1') })
      const ready = await app.inject({ method: 'GET', url: '/health/ready' })
      t.equal(ready.statusCode, 200, ready.body)
      const topic = await createTopic(app, 1, 'sasl-ssl')
      const [produced] = await postMessages(app, topic, [{ value: `over-${mechanism}` }])
      t.match(produced, { topic, partition: 0, offset: '0' })
      const hook = await startHook(t)
      await defineGroup(app, uniqueName('sasl-ssl'), { isPartitionAssign: false, fromBeginning: true, topics: [{ name: topic }], consumer: FAST_CONSUMER, webhook: { url: hook.url } })
      const [hit] = await waitFor('the delivery', () => hook.ok().length > 0 && hook.ok(), 30_000)
      t.match(hit?.body, { topic, partition: 0, offset: '0', value: `over-${mechanism}` })
    })
  }

  for (const [mechanism, refusal] of MECHANISMS) {
    t.test(`${mechanism}, wrong password: the server stays up, says why, and answers readiness 503 naming kafka`, async t => {
      const g = await startGateway({
        env: { ...env(mechanism, 'not-the-password'), KAFKA_CLIENT_ID: uniqueName('gw'), REGISTRY_KEY: uniqueName('registry'), LOG_LEVEL: 'info' },
        waitFor: 'live'
      })
      t.teardown(() => g.stop())
      await waitFor('the start-up error', () => g.output().includes('"msg":"kafka refused the SASL credentials'), 30_000)
      // answer after answer: the process neither exits nor restarts while the credentials are wrong
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${g.url}/health/ready`)
        const body = await res.json() as Ready
        t.equal(res.status, 503)
        t.match(body, { status: 'unavailable', failed: ['kafka'], checks: { kafka: { status: 'fail', error: refusal } } })
      }
      const post = await fetch(`${g.url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topic: 'any', messages: [{ value: 1 }] }) })
      t.equal(post.status, 503, 'a dependency failure: 503, as when Kafka is down')
      const text = await post.text()
      t.match(text, refusal, 'naming the refusal')
      t.match(JSON.parse(text), { code: 'GW_KAFKA_UNAVAILABLE' }, 'in the error model')
      t.ok(g.isRunning(), 'still running')
      t.equal(g.starts, 1, 'never restarted')
    })
  }
})
