import t from 'tap'
import { loadConfig } from '../../src/config/env.js'
import { configProblems as problems } from '../helpers/config.js'


t.test('defaults', async t => {
  const c = loadConfig({})
  t.equal(c.port, 8080)
  t.equal(c.host, '0.0.0.0')
  t.same(c.kafka.brokers, ['127.0.0.1:9092'])
  t.equal(c.redis.url, 'redis://127.0.0.1:6379/0')
  t.equal(c.registry.key, 'kafka-consumer-info')
  t.same(c.apiKeys, [])
  t.equal(c.docsPublic, false)
  t.equal(c.logLevel, 'info')
  t.equal(c.produce.autoCreateTopics, false)
  t.ok(c.kafka.clientId.length > 0, 'clientId defaults to the hostname')
})

t.test('values are parsed', async t => {
  const c = loadConfig({
    PORT: '9000', KAFKA_BROKERS: 'a:9092, b:9093', KAFKA_CLIENT_ID: 'gw-1', API_KEYS: 'k1,k2',
    KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p', KAFKA_SSL: 'true'
  })
  t.equal(c.port, 9000)
  t.same(c.kafka.brokers, ['a:9092', 'b:9093'])
  t.same(c.apiKeys.map(k => k.key), ['k1', 'k2'])
  t.ok(c.apiKeys.every(k => k.scopes.length === 3 && k.topics === undefined), 'plain keys: every scope, every topic')
  t.same(c.kafka.sasl, { mechanism: 'scram-sha-512', username: 'u', password: 'p' })
  t.equal(c.kafka.ssl, true)
})

t.test('each bad variable is named with its rule', async t => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'abc' }, /^PORT: must be an integer between 0 and 65535/],
    [{ PORT: '70000' }, /^PORT: must be an integer between 0 and 65535/],
    [{ KAFKA_BROKERS: 'no-port' }, /^KAFKA_BROKERS: each entry must be host:port/],
    [{ KAFKA_BROKERS: ' , ' }, /^KAFKA_BROKERS: must list at least one/],
    [{ KAFKA_CLIENT_ID: 'has space' }, /^KAFKA_CLIENT_ID: must be 1-255 characters/],
    [{ KAFKA_SSL: 'maybe' }, /^KAFKA_SSL: must be true or false/],
    [{ KAFKA_SASL_MECHANISM: 'kerberos' }, /^KAFKA_SASL_MECHANISM: must be one of plain, scram-sha-256, scram-sha-512/],
    [{ KAFKA_SASL_MECHANISM: 'plain' }, /^KAFKA_SASL_USERNAME\/KAFKA_SASL_PASSWORD: both are required/],
    [{ KAFKA_SASL_USERNAME: 'u' }, /^KAFKA_SASL_MECHANISM: required/],
    [{ REDIS_URL: 'http://x' }, /^REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent/],
    [{ REGISTRY_KEY: 'a b' }, /^REGISTRY_KEY: must be 1-512 non-space characters/],
    [{ KAFKA_SSL_CA_FILE: '/nonexistent/ca.pem' }, /^KAFKA_SSL_CA_FILE: file cannot be read/],
    [{ WEBHOOK_ALLOWED_HOSTS: 'hooks.example.com,exa mple.com' }, /^WEBHOOK_ALLOWED_HOSTS: "exa mple.com": must be a host name/],
    [{ WEBHOOK_BLOCKED_ADDRESSES: 'metadata.google.internal' }, /^WEBHOOK_BLOCKED_ADDRESSES: "metadata.google.internal": must be an IP address or a CIDR block/],
    [{ WEBHOOK_BLOCKED_ADDRESSES: '10.0.0.0/40' }, /^WEBHOOK_BLOCKED_ADDRESSES: "10.0.0.0\/40": prefix length/]
  ]
  for (const [env, rule] of cases) {
    const p = problems(env)
    t.equal(p.length, 1, `${JSON.stringify(env)} gives one problem`)
    t.match(p[0], rule)
  }
})

t.test('WEBHOOK_BLOCKED_ADDRESSES: cloud metadata and link-local by default; none turns it off', async t => {
  t.same(loadConfig({}).webhooks.blockedAddresses, ['169.254.0.0/16', 'fe80::/10', '100.100.100.200/32', 'fd00:ec2::254/128'])
  t.same(loadConfig({ WEBHOOK_BLOCKED_ADDRESSES: 'none' }).webhooks.blockedAddresses, [])
  t.same(loadConfig({ WEBHOOK_BLOCKED_ADDRESSES: '' }).webhooks.blockedAddresses, loadConfig({}).webhooks.blockedAddresses, 'empty: the default')
  t.same(loadConfig({ WEBHOOK_BLOCKED_ADDRESSES: '10.0.0.0/8, ::1' }).webhooks.blockedAddresses, ['10.0.0.0/8', '::1'])
})

t.test('all problems are reported at once', async t => {
  const p = problems({ PORT: 'x', LOG_LEVEL: 'y', KAFKA_SSL: 'z' })
  t.equal(p.length, 3)
  t.throws(() => loadConfig({ PORT: 'x' }), { name: 'ConfigError', message: /invalid configuration:\n {2}- PORT/ })
})
