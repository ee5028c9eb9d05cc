/**
 * The webhook delivery engine: one record (or, with `batchSize` > 1, consecutive records of one partition)
 * → one signed POST, retried until the webhook answers 2xx, the records are dead-lettered, or the consumer
 * tells us to stop (ctx.signal).
 *
 * - The consumer runtime calls `deliver` (or `deliverBatch`) for the messages of a partition in order and
 *   commits the offset only on 'delivered' or 'dead-lettered'; 'aborted' means "do not commit".
 * - HTTP goes through one undici Agent: keep-alive pooling with at most `connectionsPerOrigin` connections
 *   per origin; no redirect interceptor, so 3xx answers come back as failures and are never followed.
 *   Each attempt is bounded by the webhook's timeout (connect + headers + body).
 * - Throughout a delivery (requests, waits, dead-letter writes) `ctx.heartbeat()` is called every
 *   `heartbeatIntervalMs` (default 1 s; kafkajs throttles it to its heartbeat interval), so a slow or
 *   down endpoint never costs the consumer its group membership. A heartbeat failing with a membership
 *   error (rebalance in progress, unknown member, illegal generation, fenced) ends the delivery as
 *   'aborted': the partition may now belong to someone else.
 * - With `deadLetterTopic: false` nothing is ever given up: the partition stays blocked, retrying with the
 *   capped backoff, until the endpoint accepts.
 * - Logs name the URL by origin and path only (no query string), never secrets or custom header values.
 */
import { STATUS_CODES } from 'node:http'
import { performance } from 'node:perf_hooks'
import type { KeyObject } from 'node:crypto'
import type { Admin, Producer } from 'kafkajs'
import type { Logger } from 'pino'
import { Agent, request, type Dispatcher } from 'undici'
import { sleep } from '../util/async.js'
import { isMembershipError } from '../kafka/membership.js'
import { createDeadLetterWriter, deadLetterTopicFor } from './dead-letter.js'
import { batchBody, envelopeBody, headerText } from './envelope.js'
import { DEFAULT_BACKOFF, decide, resolvePolicy, type AttemptResult, type BackoffOptions, type RetryPolicy } from './retry-policy.js'
import { addSignatureHeaders, secretKey, webhookId } from './signing.js'
import { BLOCKED_ADDRESS_CODE, guardedLookup, headerProblem, webhookUrlProblem } from './url-policy.js'
import type { ConsumedRecord, Deliverer, DeliveryContext, DeliveryEvent, DeliveryOutcome, WebhookConfig } from './types.js'

export const USER_AGENT_PRODUCT = 'kafka-http-gateway'
/** Bytes of a failing response body kept for the dead-letter error and logs. */
export const ERROR_BODY_BYTES = 1024
/** A failing response body longer than this is not drained: its connection is closed instead. */
const DRAIN_LIMIT_BYTES = 64 * 1024
const REQUEST_ID_HEADER = 'x-request-id'
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

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

/** A webhook's settings, checked and decoded once per WebhookConfig object. */
interface Prepared {
  url: string
  /** Why nothing can be sent to this URL (bad scheme, not allowed): every attempt fails permanently. */
  urlProblem: string | undefined
  /** origin + path: what logs say. */
  logUrl: string
  keys: KeyObject[]
  headers: Record<string, string>
  hasRequestIdHeader: boolean
  timeoutMs: number
  /** Replaces this webhook's own secrets in text its receiver sent back (an error page echoing our headers). */
  scrub: (text: string) => string
}

/**
 * A delivery in progress, stopped (stopDelivery) by ctx.signal, close(), or a lost group membership. The
 * fast path (one attempt that succeeds) creates one AbortController, the attempt's; waits and dead-letter
 * writes get a signal of their own (`waitSignal`) only when they happen.
 */
interface Active {
  ctx: DeliveryContext
  started: number
  heartbeatPending: boolean
  /** Why the delivery was stopped; undefined while it runs. */
  stopReason: Error | undefined
  /** The controller of the HTTP attempt under way. */
  attempt: AbortController | undefined
  /** Aborted on stop: created on the first wait (retry backoff, dead-letter write). */
  wait: AbortController | undefined
}

function stopDelivery (a: Active, reason: Error): void {
  if (a.stopReason !== undefined) return
  a.stopReason = reason
  a.attempt?.abort(reason)
  a.wait?.abort(reason)
}

function waitSignal (a: Active): AbortSignal {
  if (a.wait === undefined) {
    a.wait = new AbortController()
    if (a.stopReason !== undefined) a.wait.abort(a.stopReason)
  }
  return a.wait.signal
}

class AbortedError extends Error {}

function errorText (err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const code = (err as { code?: unknown }).code
  let text = err.message
  // happy-eyeballs connect failures are AggregateErrors with an empty message
  if (text === '' && err instanceof AggregateError && err.errors[0] instanceof Error) text = err.errors[0].message
  if (text === '') text = err.name
  return typeof code === 'string' && !text.includes(code) ? `${code}: ${text}` : text
}

function oneLine (s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()
}

function statusText (status: number): string {
  const text = STATUS_CODES[status]
  return text === undefined ? `HTTP ${status}` : `HTTP ${status} ${text}`
}

/** Shorter secret fragments are not scrubbed (they would blank out ordinary words of an error body). */
const MIN_SCRUB_LENGTH = 6

/**
 * A failing receiver's body (and Location header) is kept in logs, group status (GET /consumer-groups
 * `lastError`) and dead letters. Receivers that echo the request (debug error pages) would put the
 * webhook's signing secrets or custom header values (e.g. `Authorization: Bearer …`) there: this replaces
 * each (whole, each whitespace-separated part, a secret's key without `whsec_`) with `[redacted]`.
 */
function scrubberFor (webhook: WebhookConfig): (text: string) => string {
  const found = new Set<string>()
  for (const secret of webhook.secrets ?? []) {
    found.add(secret)
    if (secret.startsWith('whsec_')) found.add(secret.slice(6))
  }
  for (const value of Object.values(webhook.headers ?? {})) {
    found.add(value)
    for (const part of value.split(/\s+/)) found.add(part)
  }
  const needles = [...found].filter(n => n.length >= MIN_SCRUB_LENGTH).sort((a, b) => b.length - a.length)
  if (needles.length === 0) return text => text
  return text => needles.reduce((t, n) => (t.includes(n) ? t.split(n).join('[redacted]') : t), text)
}

/** Reads (and keeps the first ERROR_BODY_BYTES of) a failing response body, draining it for keep-alive. */
async function readErrorBody (body: Dispatcher.ResponseData['body']): Promise<string> {
  const kept: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (size < ERROR_BODY_BYTES) kept.push(chunk.subarray(0, ERROR_BODY_BYTES - size))
      size += chunk.length
      if (size > DRAIN_LIMIT_BYTES) break // closes the connection rather than read a huge body
    }
  } catch {
    // a body that fails midway still leaves the status, which is what counts
  }
  return oneLine(Buffer.concat(kept).toString('utf8'))
}

/** The message of a guarded-lookup refusal (undici wraps it as the cause), or undefined. */
function blockedAddressError (err: unknown): string | undefined {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === BLOCKED_ADDRESS_CODE) return (e as Error).message
  }
  return undefined
}

function firstHeader (value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

export function createDeliverer (deps: DelivererDeps): Deliverer {
  const log = deps.logger.child({ component: 'webhooks' })
  const now = deps.now ?? Date.now
  const random = deps.random ?? Math.random
  const backoff: BackoffOptions = { ...DEFAULT_BACKOFF, ...deps.backoff }
  const heartbeatIntervalMs = deps.heartbeatIntervalMs ?? 1000
  const blocked = deps.blockedAddresses ?? []
  const agent = new Agent({
    connections: deps.connectionsPerOrigin ?? 64,
    pipelining: 1,
    keepAliveTimeout: deps.keepAliveTimeoutMs ?? 30_000,
    keepAliveMaxTimeout: Math.max(deps.keepAliveTimeoutMs ?? 30_000, 60_000),
    ...(blocked.length > 0 ? { connect: { lookup: guardedLookup(blocked) } } : {})
  })
  const dlq = createDeadLetterWriter({
    getProducer: deps.getProducer,
    getAdmin: deps.getAdmin,
    logger: deps.logger,
    ...(deps.deadLetterRetry !== undefined ? { retry: deps.deadLetterRetry } : {})
  })
  const prepared = new WeakMap<WebhookConfig, Prepared>()
  const policies = new WeakMap<WebhookConfig, { withDlq: RetryPolicy, withoutDlq: RetryPolicy }>()
  const active = new Set<Active>()
  /** One abort listener per distinct ctx.signal (partitions of one consumer may share a signal). */
  const bySignal = new Map<AbortSignal, { actives: Set<Active>, onAbort: () => void }>()
  let isClosed = false
  let ticker: NodeJS.Timeout | undefined
  let closed: Promise<void> | undefined

  const observing = deps.observer !== undefined
  function emit (e: DeliveryEvent): void {
    if (deps.observer === undefined) return
    try {
      deps.observer(e)
    } catch (err) {
      log.error({ err: errorText(err) }, 'delivery observer threw')
    }
  }

  function prepare (webhook: WebhookConfig): Prepared {
    const hit = prepared.get(webhook)
    if (hit !== undefined) return hit
    let logUrl = '(invalid URL)'
    try {
      const u = new URL(webhook.url)
      logUrl = `${u.origin}${u.pathname}`
    } catch {
      // reported as urlProblem below
    }
    const problem = webhookUrlProblem(webhook.url, deps.allowedHosts ?? [], blocked)
    const urlProblem = problem === undefined ? undefined : `webhook URL refused: ${problem}`
    const keys: KeyObject[] = []
    for (const [i, secret] of (webhook.secrets ?? []).entries()) {
      try {
        keys.push(secretKey(secret))
      } catch (err) {
        log.warn({ url: logUrl, secretIndex: i, err: errorText(err) }, 'webhook secret ignored')
      }
    }
    const headers: Record<string, string> = {}
    let hasRequestIdHeader = false
    for (const [name, value] of Object.entries(webhook.headers ?? {})) {
      const problem = headerProblem(name, value)
      if (problem !== undefined) {
        log.warn({ url: logUrl, header: name }, 'webhook header ignored: invalid or reserved')
        continue
      }
      headers[name] = value
      if (name.toLowerCase() === REQUEST_ID_HEADER) hasRequestIdHeader = true
    }
    const p: Prepared = { url: webhook.url, urlProblem, logUrl, keys, headers, hasRequestIdHeader, timeoutMs: webhook.timeoutMs ?? deps.defaults.timeoutMs, scrub: scrubberFor(webhook) }
    prepared.set(webhook, p)
    return p
  }

  function policyOf (webhook: WebhookConfig, canGiveUp: boolean): RetryPolicy {
    let hit = policies.get(webhook)
    if (hit === undefined) {
      hit = { withDlq: resolvePolicy(webhook, true, backoff), withoutDlq: resolvePolicy(webhook, false, backoff) }
      policies.set(webhook, hit)
    }
    return canGiveUp ? hit.withDlq : hit.withoutDlq
  }

  /** One timer heartbeats every delivery that has been running for at least an interval. */
  function tick (): void {
    const t = performance.now()
    for (const a of active) {
      if (a.heartbeatPending || t - a.started < heartbeatIntervalMs) continue
      a.heartbeatPending = true
      a.ctx.heartbeat().then(() => { a.heartbeatPending = false }, (err: unknown) => {
        a.heartbeatPending = false
        if (isMembershipError(err)) {
          stopDelivery(a, new Error(`group membership lost (${String((err as { type?: unknown }).type)})`))
        } else {
          log.warn({ groupId: a.ctx.groupId, err: errorText(err) }, 'consumer heartbeat failed during webhook delivery')
        }
      })
    }
  }

  function track (ctx: DeliveryContext): Active {
    const a: Active = { ctx, started: performance.now(), heartbeatPending: false, stopReason: undefined, attempt: undefined, wait: undefined }
    active.add(a)
    let entry = bySignal.get(ctx.signal)
    if (entry === undefined) {
      const actives = new Set<Active>()
      const onAbort = (): void => { for (const x of actives) stopDelivery(x, new Error('aborted')) }
      ctx.signal.addEventListener('abort', onAbort, { once: true })
      entry = { actives, onAbort }
      bySignal.set(ctx.signal, entry)
    }
    entry.actives.add(a)
    if (ticker === undefined && !isClosed) {
      // lives as long as the deliverer (unref'd): cheaper than one timer per delivery
      ticker = setInterval(tick, heartbeatIntervalMs)
      ticker.unref()
    }
    return a
  }

  function untrack (a: Active): void {
    active.delete(a)
    const entry = bySignal.get(a.ctx.signal)
    if (entry !== undefined) {
      entry.actives.delete(a)
      if (entry.actives.size === 0) {
        a.ctx.signal.removeEventListener('abort', entry.onAbort)
        bySignal.delete(a.ctx.signal)
      }
    }
  }

  /** One HTTP attempt. Throws AbortedError when the delivery was stopped during it. */
  async function attempt (p: Prepared, headers: Record<string, string>, body: string, a: Active): Promise<AttemptResult & { detail: string }> {
    if (p.urlProblem !== undefined) return { kind: 'error', error: p.urlProblem, permanent: true, detail: p.urlProblem }
    if (a.stopReason !== undefined) throw new AbortedError('aborted')
    const ac = new AbortController()
    a.attempt = ac
    let timedOut = false
    const timer = setTimeout(() => { timedOut = true; ac.abort(new Error('timeout')) }, p.timeoutMs)
    try {
      const res = await request(p.url, {
        dispatcher: agent,
        method: 'POST',
        headers,
        body,
        signal: ac.signal,
        headersTimeout: p.timeoutMs,
        bodyTimeout: p.timeoutMs
      })
      const status = res.statusCode
      if (status >= 200 && status < 300) {
        await res.body.dump().catch(() => {})
        return { kind: 'response', status, detail: statusText(status) }
      }
      const text = await readErrorBody(res.body)
      const retryAfter = firstHeader(res.headers['retry-after'])
      let detail = statusText(status)
      if (status >= 300 && status < 400) {
        const location = firstHeader(res.headers.location)
        detail += ` (redirects are not followed${location !== undefined ? `; Location: ${oneLine(location).slice(0, 256)}` : ''})`
      }
      if (text !== '') detail += `: ${text}`
      return { kind: 'response', status, retryAfter, detail: p.scrub(detail) }
    } catch (err) {
      if (a.stopReason !== undefined) throw new AbortedError('aborted')
      if (timedOut) return { kind: 'error', error: `timeout after ${p.timeoutMs} ms`, timeout: true, detail: `timeout after ${p.timeoutMs} ms` }
      const blockedErr = blockedAddressError(err)
      if (blockedErr !== undefined) return { kind: 'error', error: blockedErr, permanent: true, detail: blockedErr }
      const text = p.scrub(errorText(err))
      return { kind: 'error', error: text, detail: text }
    } finally {
      clearTimeout(timer)
      a.attempt = undefined
    }
  }

  /** One request for `records` (consecutive records of one partition): the envelope alone, or `{ records }` when `batch`. */
  async function deliverRecords (records: readonly ConsumedRecord[], batch: boolean, ctx: DeliveryContext): Promise<DeliveryOutcome> {
    const record = records[0]
    if (record === undefined) return { outcome: 'delivered', attempts: 0, status: 0 }
    const last = records[records.length - 1] as ConsumedRecord
    const count = batch ? { records: records.length } : {}
    const base = { groupId: ctx.groupId, topic: record.topic, partition: record.partition, offset: record.offset, ...count }
    let attempts = 0
    if (isClosed || ctx.signal.aborted) {
      const reason = isClosed ? 'deliverer closed' : 'aborted'
      if (observing) emit({ ...base, kind: 'aborted', attempt: 0, error: reason })
      return { outcome: 'aborted', attempts: 0, reason }
    }
    const webhook = ctx.webhook
    const p = prepare(webhook)
    const dlqTopic = deadLetterTopicFor(ctx.groupId, webhook.deadLetterTopic)
    const policy = policyOf(webhook, dlqTopic !== undefined)
    const body = batch ? batchBody(records) : envelopeBody(record)
    // stable across retries of this request; a batch is named by its first and last offsets
    const id = webhookId(ctx.groupId, record.topic, record.partition, batch ? `${record.offset}-${last.offset}` : record.offset)
    const fixedHeaders: Record<string, string> = { ...p.headers }
    // a batch has no one request id: each envelope carries its record's x-request-id header
    if (!p.hasRequestIdHeader && !batch) {
      const rid = headerText(record.headers, REQUEST_ID_HEADER)
      if (rid !== undefined && REQUEST_ID.test(rid)) fixedHeaders[REQUEST_ID_HEADER] = rid
    }
    if (deps.fetchedAtHeader !== undefined) fixedHeaders[deps.fetchedAtHeader] = String(performance.timeOrigin + ctx.fetchedAt)
    fixedHeaders['content-type'] = 'application/json'
    fixedHeaders['user-agent'] = deps.userAgent
    // only for log lines (retries, failures): not built on the fast path
    const logBase = (): Record<string, unknown> => ({ ...base, url: p.logUrl })

    const tracked = track(ctx)
    const aborted = (): DeliveryOutcome => {
      const reason = errorText(tracked.stopReason)
      if (observing) emit({ ...base, kind: 'aborted', attempt: attempts, error: reason })
      log.debug({ ...logBase(), attempts, reason }, 'webhook delivery stopped before completion')
      return { outcome: 'aborted', attempts, reason }
    }

    try {
      const firstAttemptAt = now()
      let lastAttemptAt = firstAttemptAt
      for (;;) {
        if (tracked.stopReason !== undefined) return aborted()
        attempts++
        lastAttemptAt = now()
        const headers = addSignatureHeaders({ ...fixedHeaders }, p.keys, id, Math.floor(lastAttemptAt / 1000), body)
        const t0 = performance.now()
        let result: AttemptResult & { detail: string }
        try {
          result = await attempt(p, headers, body, tracked)
        } catch (err) {
          if (err instanceof AbortedError) return aborted()
          throw err
        }
        const status = result.kind === 'response' ? result.status : undefined
        if (observing) {
          const durationMs = performance.now() - t0
          if (status !== undefined && status >= 200 && status < 300) {
            emit({ groupId: ctx.groupId, topic: record.topic, partition: record.partition, offset: record.offset, ...count, kind: 'attempt', attempt: attempts, status, durationMs })
          } else {
            emit({ ...base, kind: 'attempt', attempt: attempts, ...(status !== undefined ? { status } : {}), error: result.detail, durationMs })
          }
        }

        const decision = decide({ result, attempts, firstAttemptAt, now: now(), policy, random })
        if (decision.action === 'success') {
          const latency = performance.now() - ctx.fetchedAt
          if (observing) emit({ groupId: ctx.groupId, topic: record.topic, partition: record.partition, offset: record.offset, ...count, kind: 'delivered', attempt: attempts, status: status ?? 0, durationMs: latency })
          if (attempts > 1) log.info({ ...logBase(), attempts, status }, 'webhook delivered after retries')
          return { outcome: 'delivered', attempts, status: status ?? 0 }
        }
        if (decision.action === 'retry') {
          if (observing) emit({ ...base, kind: 'retry-scheduled', attempt: attempts, ...(status !== undefined ? { status } : {}), error: result.detail, delayMs: decision.delayMs })
          log.warn({ ...logBase(), attempt: attempts, status, err: result.detail, retryInMs: decision.delayMs }, 'webhook attempt failed; will retry')
          await sleep(decision.delayMs, waitSignal(tracked))
          continue
        }

        // give up: dead-letter (policy.canGiveUp implies a topic)
        const error = `${result.detail} (${decision.reason})`
        log.warn({ ...logBase(), attempts, status, err: error, deadLetterTopic: dlqTopic }, 'webhook delivery failed; dead-lettering')
        if (dlqTopic === undefined) throw new Error('unreachable: gave up without a dead-letter topic')
        const written = await dlq.writeAll(dlqTopic, records.map(r => ({
          groupId: ctx.groupId, record: r, status, error, attempts, firstAttemptAt, lastAttemptAt
        })), waitSignal(tracked))
        if (!written) return aborted()
        if (observing) emit({ ...base, kind: 'dead-lettered', attempt: attempts, ...(status !== undefined ? { status } : {}), error, durationMs: performance.now() - ctx.fetchedAt })
        return { outcome: 'dead-lettered', attempts, status, error }
      }
    } finally {
      untrack(tracked)
    }
  }

  return {
    deliver: (record, ctx) => deliverRecords([record], false, ctx),
    deliverBatch: (records, ctx) => deliverRecords(records, true, ctx),
    close () {
      closed ??= (async () => {
        isClosed = true
        clearInterval(ticker)
        for (const a of active) stopDelivery(a, new Error('deliverer closed'))
        // in-flight requests were aborted above; give sockets a moment to close cleanly, then force them
        let timer: NodeJS.Timeout | undefined
        const forced = new Promise<'forced'>(resolve => { timer = setTimeout(() => resolve('forced'), 2000); timer.unref() })
        const how = await Promise.race([agent.close().then(() => 'closed' as const, () => 'closed' as const), forced])
        clearTimeout(timer)
        if (how === 'forced') await agent.destroy().catch(() => {})
      })()
      return closed
    }
  }
}

/** `kafka-http-gateway/<version>`. */
export function userAgentFor (version: string): string {
  return `${USER_AGENT_PRODUCT}/${version}`
}
