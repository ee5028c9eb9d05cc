import { hostname } from 'node:os'
import { DEFAULT_BLOCKED_ADDRESSES, allowListEntryProblem, blockedEntryProblem } from '../webhooks/url-policy.js'
import { parseApiKeys, type ApiKey } from './api-keys.js'
import { unreadableFileProblem, webhookTlsProblems, type WebhookTlsFiles } from './tls-files.js'

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512'
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export interface Config {
  port: number
  host: string
  /** GATEWAY_ADVERTISED_URL: how other instances reach this one (pull consumers are forwarded to their owner); default http://<host>:<port>. */
  advertisedUrl: string | undefined
  logLevel: LogLevel
  bodyLimitBytes: number
  requestTimeoutMs: number
  shutdownTimeoutMs: number
  /** Between readiness turning 503 and the listener closing: time for load balancers to notice. */
  shutdownDrainMs: number
  /** How long webhook deliveries in flight may finish when a consumer stops (shutdown, DELETE, redefinition). */
  shutdownDeliveryGraceMs: number
  /** API_KEYS parsed (src/config/api-keys.ts): each key with its scopes and topic globs. */
  apiKeys: ApiKey[]
  /** DOCS_PUBLIC: /docs and /openapi.json are served without an API key. */
  docsPublic: boolean
  kafka: {
    brokers: string[]
    clientId: string
    ssl: boolean
    sslCaFile: string | undefined
    sasl: { mechanism: SaslMechanism, username: string, password: string } | undefined
    connectionTimeoutMs: number
    requestTimeoutMs: number
  }
  redis: { url: string }
  registry: { key: string, heartbeatMs: number }
  produce: {
    autoCreateTopics: boolean
    /** Kafka's idempotent producer for acks -1: retries inside the client write no duplicates. */
    idempotent: boolean
    lingerMs: number
    maxBatchRecords: number
    maxBatchBytes: number
    idempotencyTtlSeconds: number
  }
  webhooks: {
    allowedHosts: string[]
    /** IPs and CIDR blocks no webhook may reach, whatever the allow-list says (default: cloud metadata, link-local). */
    blockedAddresses: string[]
    defaultTimeoutMs: number
    /** PEM files for https webhooks: extra trusted CAs, and a client certificate for mTLS (src/config/tls-files.ts). */
    tls: WebhookTlsFiles
  }
  metrics: { port: number | undefined }
  /** Server-sent event streams: heartbeat comment interval, and how many may be open at once. */
  sse: { heartbeatMs: number, maxStreams: number }
  underPressure: { maxEventLoopDelayMs: number, maxRssBytes: number }
}

/** Raised at boot; lists every bad variable with the rule it broke. */
export class ConfigError extends Error {
  constructor (readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
  }
}

type Env = Record<string, string | undefined>

/** Reads one variable, recording a problem instead of throwing so all problems are reported at once. */
class Reader {
  readonly problems: string[] = []
  constructor (private readonly env: Env) {}

  raw (name: string): string | undefined {
    const v = this.env[name]
    return v === undefined || v.trim() === '' ? undefined : v.trim()
  }

  string (name: string, fallback: string, rule?: { pattern: RegExp, text: string }): string {
    const v = this.raw(name) ?? fallback
    if (rule !== undefined && !rule.pattern.test(v)) this.problems.push(`${name}: ${rule.text} (got "${v}")`)
    return v
  }

  int (name: string, fallback: number, min: number, max: number): number {
    const v = this.raw(name)
    if (v === undefined) return fallback
    if (!/^-?\d+$/.test(v)) {
      this.problems.push(`${name}: must be an integer between ${min} and ${max} (got "${v}")`)
      return fallback
    }
    const n = Number(v)
    if (n < min || n > max) this.problems.push(`${name}: must be an integer between ${min} and ${max} (got ${n})`)
    return n
  }

  bool (name: string, fallback: boolean): boolean {
    const v = this.raw(name)
    if (v === undefined) return fallback
    if (/^(true|1|yes)$/i.test(v)) return true
    if (/^(false|0|no)$/i.test(v)) return false
    this.problems.push(`${name}: must be true or false (got "${v}")`)
    return fallback
  }

  oneOf<T extends string> (name: string, fallback: T | undefined, allowed: readonly T[]): T | undefined {
    const v = this.raw(name)
    if (v === undefined) return fallback
    const lower = v.toLowerCase() as T
    if (!allowed.includes(lower)) {
      this.problems.push(`${name}: must be one of ${allowed.join(', ')} (got "${v}")`)
      return fallback
    }
    return lower
  }

  list (name: string, fallback: string[]): string[] {
    const v = this.raw(name)
    if (v === undefined) return fallback
    return v.split(',').map(s => s.trim()).filter(s => s !== '')
  }
}

const BROKER = /^[A-Za-z0-9._-]+:\d{1,5}$/
const CLIENT_ID = /^[A-Za-z0-9._:-]{1,255}$/
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
const SASL: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512']
const MIB = 1024 * 1024

/** Validates the environment once, at boot, into the one typed configuration object. */
export function loadConfig (env: Env = process.env): Config {
  const r = new Reader(env)

  const brokers = r.list('KAFKA_BROKERS', ['127.0.0.1:9092'])
  if (brokers.length === 0) r.problems.push('KAFKA_BROKERS: must list at least one host:port')
  for (const b of brokers) {
    if (!BROKER.test(b)) r.problems.push(`KAFKA_BROKERS: each entry must be host:port (got "${b}")`)
  }

  const mechanism = r.oneOf('KAFKA_SASL_MECHANISM', undefined, SASL)
  const saslUser = r.raw('KAFKA_SASL_USERNAME')
  const saslPass = r.raw('KAFKA_SASL_PASSWORD')
  if (mechanism !== undefined && (saslUser === undefined || saslPass === undefined)) {
    r.problems.push('KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD: both are required when KAFKA_SASL_MECHANISM is set')
  }
  if (mechanism === undefined && (saslUser !== undefined || saslPass !== undefined)) {
    r.problems.push('KAFKA_SASL_MECHANISM: required when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is set')
  }

  const sslCaFile = r.raw('KAFKA_SSL_CA_FILE')
  const sslCaProblem = sslCaFile === undefined ? undefined : unreadableFileProblem('KAFKA_SSL_CA_FILE', sslCaFile)
  if (sslCaProblem !== undefined) r.problems.push(sslCaProblem)
  const webhookTls = { caFile: r.raw('WEBHOOK_CA_FILE'), certFile: r.raw('WEBHOOK_CLIENT_CERT_FILE'), keyFile: r.raw('WEBHOOK_CLIENT_KEY_FILE') }
  r.problems.push(...webhookTlsProblems(webhookTls))

  const redisUrl = r.string('REDIS_URL', 'redis://127.0.0.1:6379/0', { pattern: /^rediss?:\/\/\S+$/, text: 'must be a redis:// or rediss:// URL' })
  if (redisUrl.startsWith('redis')) {
    try { void new URL(redisUrl) } catch { r.problems.push(`REDIS_URL: must be a valid URL (got "${redisUrl}")`) }
  }

  const apiKeys = parseApiKeys(r.raw('API_KEYS'))
  r.problems.push(...apiKeys.problems)

  const metricsPort = r.raw('METRICS_PORT') === undefined ? undefined : r.int('METRICS_PORT', 0, 0, 65535)

  const config: Config = {
    port: r.int('PORT', 8080, 0, 65535),
    host: r.string('HOST', '0.0.0.0', { pattern: /^[A-Za-z0-9.:_-]+$/, text: 'must be a host name or IP address' }),
    advertisedUrl: r.raw('GATEWAY_ADVERTISED_URL') === undefined ? undefined : r.string('GATEWAY_ADVERTISED_URL', '', { pattern: /^https?:\/\/[^\s/?#]+\/?$/, text: 'must be an http:// or https:// base URL (scheme, host, optional port, no path)' }).replace(/\/$/, ''),
    logLevel: r.oneOf('LOG_LEVEL', 'info', LOG_LEVELS) ?? 'info',
    bodyLimitBytes: r.int('BODY_LIMIT_BYTES', MIB, 1024, 100 * MIB),
    requestTimeoutMs: r.int('REQUEST_TIMEOUT_MS', 60_000, 1000, 3_600_000),
    shutdownTimeoutMs: r.int('SHUTDOWN_TIMEOUT_MS', 25_000, 1000, 600_000),
    shutdownDrainMs: r.int('SHUTDOWN_DRAIN_MS', 0, 0, 300_000),
    shutdownDeliveryGraceMs: 0,
    apiKeys: apiKeys.keys,
    docsPublic: r.bool('DOCS_PUBLIC', false),
    kafka: {
      brokers,
      clientId: r.string('KAFKA_CLIENT_ID', hostname(), { pattern: CLIENT_ID, text: 'must be 1-255 characters of [A-Za-z0-9._:-]' }),
      ssl: r.bool('KAFKA_SSL', false),
      sslCaFile,
      sasl: mechanism !== undefined && saslUser !== undefined && saslPass !== undefined
        ? { mechanism, username: saslUser, password: saslPass }
        : undefined,
      connectionTimeoutMs: r.int('KAFKA_CONNECTION_TIMEOUT_MS', 3000, 100, 120_000),
      requestTimeoutMs: r.int('KAFKA_REQUEST_TIMEOUT_MS', 30_000, 100, 600_000)
    },
    redis: { url: redisUrl },
    registry: {
      key: r.string('REGISTRY_KEY', 'kafka-consumer-info', { pattern: /^\S{1,512}$/, text: 'must be 1-512 non-space characters' }),
      heartbeatMs: r.int('REGISTRY_HEARTBEAT_MS', 5000, 200, 300_000)
    },
    produce: {
      autoCreateTopics: r.bool('AUTO_CREATE_TOPICS', false),
      idempotent: r.bool('PRODUCE_IDEMPOTENT', true),
      lingerMs: r.int('PRODUCE_LINGER_MS', 2, 0, 1000),
      maxBatchRecords: r.int('PRODUCE_MAX_BATCH_RECORDS', 1000, 1, 100_000),
      maxBatchBytes: r.int('PRODUCE_MAX_BATCH_BYTES', MIB, 1024, 64 * MIB),
      idempotencyTtlSeconds: r.int('IDEMPOTENCY_TTL_SECONDS', 86_400, 1, 30 * 86_400)
    },
    webhooks: {
      allowedHosts: r.list('WEBHOOK_ALLOWED_HOSTS', []),
      // `none` turns the block off (an empty variable means the default, like every other)
      blockedAddresses: r.raw('WEBHOOK_BLOCKED_ADDRESSES')?.toLowerCase() === 'none' ? [] : r.list('WEBHOOK_BLOCKED_ADDRESSES', [...DEFAULT_BLOCKED_ADDRESSES]),
      defaultTimeoutMs: r.int('WEBHOOK_TIMEOUT_MS', 10_000, 100, 300_000),
      tls: webhookTls
    },
    metrics: { port: metricsPort },
    sse: {
      heartbeatMs: r.int('SSE_HEARTBEAT_MS', 15_000, 100, 300_000),
      maxStreams: r.int('SSE_MAX_STREAMS', 100, 1, 10_000)
    },
    underPressure: {
      maxEventLoopDelayMs: r.int('MAX_EVENT_LOOP_DELAY_MS', 1000, 0, 60_000),
      maxRssBytes: r.int('MAX_RSS_BYTES', 0, 0, Number.MAX_SAFE_INTEGER)
    }
  }

  if (config.shutdownDrainMs > 0 && config.shutdownDrainMs >= config.shutdownTimeoutMs) {
    r.problems.push(`SHUTDOWN_DRAIN_MS: must be less than SHUTDOWN_TIMEOUT_MS (${config.shutdownTimeoutMs}), which bounds the whole shutdown including the drain (got ${config.shutdownDrainMs})`)
  }

  // default: 5 s, or half of what the drain leaves of the shutdown bound when that is shorter
  const graceDefault = Math.min(5000, Math.max(0, Math.floor((config.shutdownTimeoutMs - config.shutdownDrainMs) / 2)))
  config.shutdownDeliveryGraceMs = r.int('SHUTDOWN_DELIVERY_GRACE_MS', graceDefault, 0, 300_000)
  if (config.shutdownDeliveryGraceMs > 0 && config.shutdownDrainMs + config.shutdownDeliveryGraceMs >= config.shutdownTimeoutMs) {
    r.problems.push(`SHUTDOWN_DELIVERY_GRACE_MS: with SHUTDOWN_DRAIN_MS (${config.shutdownDrainMs}) it must stay below SHUTDOWN_TIMEOUT_MS (${config.shutdownTimeoutMs}), which bounds the whole shutdown (got ${config.shutdownDeliveryGraceMs})`)
  }

  for (const e of config.webhooks.allowedHosts) {
    const problem = allowListEntryProblem(e)
    if (problem !== undefined) r.problems.push(`WEBHOOK_ALLOWED_HOSTS: ${problem}`)
  }
  for (const e of config.webhooks.blockedAddresses) {
    const problem = blockedEntryProblem(e)
    if (problem !== undefined) r.problems.push(`WEBHOOK_BLOCKED_ADDRESSES: ${problem}`)
  }

  if (r.problems.length > 0) throw new ConfigError(r.problems)
  return config
}
