/** The deliverer's dependencies and its state: ONE object, built once, that every delivery step is handed. */
import type { Admin, Producer } from 'kafkajs'
import type { Logger } from 'pino'
import type { Agent } from 'undici'
import { createDeadLetterWriter, type DeadLetterWriter } from '../dead-letter.js'
import { DEFAULT_BACKOFF, type BackoffOptions } from '../retry-policy.js'
import type { DeliveryEvent } from '../types.js'
import { createActiveDeliveries, type ActiveDeliveries } from './active.js'
import { createAgent, type AgentOptions } from './dispatch.js'
import type { DeliveryObserver } from './events.js'
import { createPreparedWebhooks, type PreparedWebhooks } from './prepared-webhook.js'
import type { RequestSettings } from './request.js'

export interface DelivererDeps {
  getProducer: () => Promise<Producer>
  getAdmin: () => Promise<Admin>
  logger: Logger
  /** e.g. `kafka-http-gateway/0.1.0`. */
  userAgent: string
  defaults: { timeoutMs: number }
  /** Called after every attempt and outcome (feeds status counters and metrics); must not throw. */
  observer?: (e: DeliveryEvent) => void
  /** Retry waits; tests shorten them. */
  backoff?: Partial<BackoffOptions>
  /** Waits between failed dead-letter writes (defaults 500 ms → 30 s). */
  deadLetterRetry?: { initialMs?: number, maxMs?: number }
  /** How often ctx.heartbeat() is called while a delivery is in progress; default 1000 ms. */
  heartbeatIntervalMs?: number
  /**
   * The configured allow-list (WEBHOOK_ALLOWED_HOSTS), checked again at delivery: a URL it refuses (or one
   * that is not http/https) fails permanently without a request. Default: any host.
   */
  allowedHosts?: readonly string[]
  /** IPs and CIDR blocks never reached (WEBHOOK_BLOCKED_ADDRESSES): refused in the URL and when a name resolves to one. */
  blockedAddresses?: readonly string[]
  /** CAs and client certificate for https webhooks (src/config/tls-files.ts); Node's defaults when absent. */
  tls?: AgentOptions['tls']
  /** Connections per webhook origin; default 64. */
  connectionsPerOrigin?: number
  /** Idle keep-alive connections are closed after this long; default 30 s (or the server's Keep-Alive hint). */
  keepAliveTimeoutMs?: number
  /**
   * Benchmarks: send the record's fetch time (epoch ms, fractional, from ctx.fetchedAt) in this request
   * header, so a receiver can measure fetch-to-receipt latency. Off by default.
   */
  fetchedAtHeader?: string
  /** Wall clock in ms (timestamps, retry budget); default Date.now. */
  now?: () => number
  /** Jitter source in [0, 1); default Math.random. */
  random?: () => number
}

export interface DelivererState {
  /** The `component: 'webhooks'` child logger. */
  readonly log: Logger
  readonly now: () => number
  readonly random: () => number
  readonly observer: DeliveryObserver | undefined
  readonly request: RequestSettings
  readonly webhooks: PreparedWebhooks
  readonly agent: Agent
  readonly dlq: DeadLetterWriter
  readonly active: ActiveDeliveries
  /** close()'s promise, once it was called. */
  closing: Promise<void> | undefined
}

export function createState (deps: DelivererDeps): DelivererState {
  const log = deps.logger.child({ component: 'webhooks' })
  const blockedAddresses = deps.blockedAddresses ?? []
  return {
    log,
    now: deps.now ?? Date.now,
    random: deps.random ?? Math.random,
    observer: deps.observer,
    request: { userAgent: deps.userAgent, fetchedAtHeader: deps.fetchedAtHeader },
    webhooks: createPreparedWebhooks({
      allowedHosts: deps.allowedHosts ?? [],
      blockedAddresses,
      defaultTimeoutMs: deps.defaults.timeoutMs,
      backoff: { ...DEFAULT_BACKOFF, ...deps.backoff },
      log
    }),
    agent: createAgent({ connectionsPerOrigin: deps.connectionsPerOrigin ?? 64, keepAliveTimeoutMs: deps.keepAliveTimeoutMs ?? 30_000, blockedAddresses, tls: deps.tls }),
    dlq: createDeadLetterWriter({
      getProducer: deps.getProducer,
      getAdmin: deps.getAdmin,
      logger: deps.logger,
      ...(deps.deadLetterRetry !== undefined ? { retry: deps.deadLetterRetry } : {})
    }),
    active: createActiveDeliveries(deps.heartbeatIntervalMs ?? 1000, log),
    closing: undefined
  }
}
