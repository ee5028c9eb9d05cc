/**
 * End-to-end counting harness (issue 8, item 1): every message is produced through POST /messages,
 * delivered through a consumer group to a real receiver, and accounted for at the end.
 *
 * - The producer client POSTs N messages with unique ids (value `{ id, seq }`; key `k<id mod K>` or none)
 *   and retries 503/504/5xx, 408, 409 (Idempotency-Key in progress) and connection errors with the SAME
 *   Idempotency-Key, within bounded attempts and time. It records, per id, every attempt and the accepted
 *   position (partition, offset) of the 200 answer.
 * - The receiver (node:http, port 0) records every delivery it answered 2xx (envelope partition/offset,
 *   `webhook-id`), and can inject faults: 503 for a window, or random 5xx / timeouts (request held until
 *   the gateway gives up) / TCP resets on p% of requests. Ids marked "poison" are answered 422 (not
 *   retryable), so they must end up in the dead-letter topic `<groupId>.dlq`.
 * - At the end (the group's committed offsets reach the end of every partition) the dead-letter topic is
 *   read and the invariants are checked (see `verify`).
 *
 * Duplicates and their bound (the in-flight window). The gateway is at-least-once; a message can be seen
 * twice for exactly two reasons, and each is bounded by what was in flight when a fault hit:
 * 1. a redelivery (same partition and offset, so the same `webhook-id`): a record handled (2xx, or refused
 *    and dead-lettered) whose offset was not yet committed when its consumer died or lost its partitions.
 *    On partition p a consumer generation that ends at t_g can only leave [committed_p(t_g), highest
 *    handled_p(t_g)] uncommitted. The harness samples the group's committed offsets every SAMPLE_MS during
 *    the run; since committed offsets and the highest handled offset only grow, for samples s_i ≤ t_g ≤
 *    s_i+1 the window is at most highest_p(s_i+1) + 1 − committed_p(s_i). Summed over partitions and
 *    maximised over the fault's window (from its start until the group was seen running again), that is the
 *    fault's in-flight window on the delivery side (`uncommittedAtFaults`). Each redelivered record must
 *    also have been first handled between REDELIVERY_LOOKBACK_MS before a fault and the end of its window:
 *    the consumer commits at most COMMIT_INTERVAL_MS (kafkajs autoCommitInterval, src/consumers/runner/commits.ts)
 *    after a delivery and at the end of every batch; 2 s of slack cover a loaded machine.
 * 2. a reproduction (same id at another offset): a POST whose outcome was ambiguous (connection lost after
 *    sending, 5xx, timeout) may have been written, and its retry writes it again once the Idempotency-Key
 *    is released or expired; and a request in flight when a broker died may have been written up to
 *    1 + GATEWAY_PRODUCER_RETRIES times by the gateway's Kafka client retrying inside the request (0 with
 *    the idempotent producer), whatever the answer. That is the in-flight window on the produce side.
 * bound = ambiguous attempts + GATEWAY_PRODUCER_RETRIES × attempts in flight at a broker fault that reached
 * the gateway + uncommittedAtFaults.
 * Webhook faults (503 windows, random errors) are not infrastructure faults: they must cause no duplicate
 * at all. `verify` also checks each duplicate individually against its cause.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import kafkajs, { type Admin, type Kafka as KafkaClient } from 'kafkajs'
import { Agent, request } from 'undici'

const { Kafka, logLevel } = kafkajs

/** The consumer's kafkajs autoCommitInterval (src/consumers/runner/commits.ts). */
export const COMMIT_INTERVAL_MS = 1000
/** How far before a fault a record may have been handled and still be uncommitted. */
export const REDELIVERY_LOOKBACK_MS = COMMIT_INTERVAL_MS + 2000
/** How often the group's committed offsets are sampled during a run. */
export const SAMPLE_MS = 250
/**
 * Extra copies the gateway's producer may write by retrying inside one request. Its producer is Kafka's
 * idempotent one (PRODUCE_IDEMPOTENT, the default; src/kafka/idempotent-sends.ts): the broker drops the
 * retries' copies, so a request cut by a broker fault is written once — any reproduction must come from
 * an ambiguous answer the client retried.
 */
export const GATEWAY_PRODUCER_RETRIES = 0

// ---------------------------------------------------------------------------------------------
// small utilities

/** A name no other test or run uses (topics, groups, registry keys, client ids). */
export function uniqueName (prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

/** Deterministic PRNG (mulberry32): fault injection is reproducible from the seed printed in the report. */
export function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const delay = (ms: number): Promise<void> => new Promise(resolve => { setTimeout(resolve, Math.max(0, ms)) })

/** Polls `fn` until it returns a value other than undefined/false, or throws after `timeoutMs` naming `what`. */
export async function waitUntil<T> (what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = performance.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v !== undefined && v !== false) return v
    } catch (err) {
      last = err
    }
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`)
    }
    await delay(everyMs)
  }
}

/** Runs registered cleanups in reverse order; every one runs even if another fails. */
export class Cleanup {
  private readonly fns: Array<() => Promise<unknown> | unknown> = []
  add (fn: () => Promise<unknown> | unknown): void { this.fns.push(fn) }
  async run (): Promise<void> {
    for (const fn of this.fns.splice(0).reverse()) {
      try { await fn() } catch { /* best effort */ }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Kafka helpers (a harness-side client, never the gateway's)

export function kafkaClient (brokers: string, clientId = 'reliability-harness'): KafkaClient {
  return new Kafka({
    clientId,
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 2000 }
  })
}

async function withAdmin<T> (brokers: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafkaClient(brokers).admin()
  await admin.connect()
  try {
    return await fn(admin)
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

export interface TopicOptions {
  partitions: number
  replicationFactor?: number
  configs?: Record<string, string>
}

/** Creates a topic without waiting for leaders inside the request, then polls metadata until every partition has one. */
export async function createTopic (brokers: string, topic: string, opts: TopicOptions): Promise<void> {
  await withAdmin(brokers, async admin => {
    await admin.createTopics({
      waitForLeaders: false,
      topics: [{
        topic,
        numPartitions: opts.partitions,
        ...(opts.replicationFactor !== undefined ? { replicationFactor: opts.replicationFactor } : {}),
        ...(opts.configs !== undefined ? { configEntries: Object.entries(opts.configs).map(([name, value]) => ({ name, value })) } : {})
      }]
    })
    await waitUntil(`leaders for every partition of ${topic}`, async () => {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
      const parts = topics[0]?.partitions ?? []
      return parts.length === opts.partitions && parts.every(p => p.leader >= 0 && p.partitionErrorCode === 0)
    }, 60_000, 100)
  })
}

export async function deleteTopics (brokers: string, topics: string[]): Promise<void> {
  await withAdmin(brokers, async admin => {
    const existing = new Set(await admin.listTopics())
    const present = topics.filter(t => existing.has(t))
    if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: 10_000 })
  })
}

export interface PartitionProgress { partition: number, low: number, high: number, committed: number }

/** Each partition's low/high watermarks and the group's committed offset (-1: none). */
export async function groupProgress (admin: Admin, groupId: string, topic: string): Promise<PartitionProgress[]> {
  const [offsets, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] })
  ])
  const byPartition = new Map((committed[0]?.partitions ?? []).map(p => [p.partition, Number(p.offset)]))
  return offsets
    .map(o => ({ partition: o.partition, low: Number(o.low), high: Number(o.high), committed: byPartition.get(o.partition) ?? -1 }))
    .sort((a, b) => a.partition - b.partition)
}

export interface DeadLetterRecord {
  id: number | undefined
  partition: number
  offset: number
  /** dlq-original-partition / dlq-original-offset */
  originalPartition: number
  originalOffset: number
  status: string | undefined
  error: string | undefined
}

const headerString = (v: Buffer | string | Array<Buffer | string> | undefined): string | undefined => {
  const first = Array.isArray(v) ? v[0] : v
  return first === undefined ? undefined : first.toString()
}

/** Reads the whole dead-letter topic (nothing when it does not exist). */
export async function readDeadLetters (brokers: string, topic: string, timeoutMs = 60_000): Promise<DeadLetterRecord[]> {
  const highs = await withAdmin(brokers, async admin => {
    if (!(await admin.listTopics()).includes(topic)) return undefined
    return (await admin.fetchTopicOffsets(topic)).map(o => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) }))
  })
  if (highs === undefined || highs.every(h => h.high <= h.low)) return []
  const out: DeadLetterRecord[] = []
  const seen = new Map<number, number>()
  const consumer = kafkaClient(brokers).consumer({ groupId: uniqueName('reliability-dlq-reader'), maxWaitTimeInMs: 100, sessionTimeout: 10_000 })
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        let id: number | undefined
        try {
          const v = JSON.parse(message.value?.toString('utf8') ?? 'null') as { id?: unknown } | null
          if (typeof v?.id === 'number') id = v.id
        } catch { /* not one of ours */ }
        const h = message.headers ?? {}
        out.push({
          id,
          partition,
          offset: Number(message.offset),
          originalPartition: Number(headerString(h['dlq-original-partition']) ?? -1),
          originalOffset: Number(headerString(h['dlq-original-offset']) ?? -1),
          status: headerString(h['dlq-status']),
          error: headerString(h['dlq-error'])
        })
        seen.set(partition, Math.max(seen.get(partition) ?? -1, Number(message.offset)))
      }
    })
    await waitUntil(`the whole dead-letter topic ${topic}`, () => highs.every(h => h.high <= h.low || (seen.get(h.partition) ?? -1) >= h.high - 1), timeoutMs, 50)
  } finally {
    await consumer.disconnect().catch(() => undefined)
  }
  return out
}

/**
 * Waits until a record handled after `since` (performance.now()) has had its offset committed, and returns
 * when that was seen. A commit accepted after a fault proves the consumer's membership is valid with the
 * (possibly new) coordinator: no consumer generation can end because of that fault any more, so this is the
 * end of the fault's in-flight window on the delivery side.
 */
export async function waitCommitAfter (brokers: string, groupId: string, topic: string, receiver: CountingReceiver, since: number, timeoutMs = 120_000): Promise<number> {
  return await withAdmin(brokers, async admin => await waitUntil(`a commit of a record handled after the fault (group ${groupId})`, async () => {
    const after = receiver.handled.filter(h => h.at > since)
    if (after.length === 0) return undefined
    const res = await admin.fetchOffsets({ groupId, topics: [topic] })
    const committed = new Map((res[0]?.partitions ?? []).map(p => [p.partition, Number(p.offset)]))
    return after.some(h => (committed.get(h.partition) ?? -1) > h.offset) ? performance.now() : undefined
  }, timeoutMs, 100))
}

// ---------------------------------------------------------------------------------------------
// receiver

export interface Handling {
  id: number
  seq: number
  partition: number
  offset: number
  webhookId: string
  /** performance.now() when the answer was handed to the socket */
  at: number
  /** 'delivered': answered 2xx; 'refused': a poison id answered 422 (the gateway dead-letters it) */
  kind: 'delivered' | 'refused'
}

export interface ReceiverStats {
  requests: number
  delivered: number
  refused: number
  /** Injected faults by kind: `503-window`, `500`, `502`, `503`, `timeout`, `reset`. */
  faults: Record<string, number>
  /** Requests the gateway abandoned before the answer could be written (timeouts, aborts). */
  abandoned: number
}

export interface CountingReceiver {
  readonly url: string
  /** Every 2xx answer and every poison refusal, in the order they were written. */
  readonly handled: Handling[]
  readonly stats: ReceiverStats
  /** Distinct ids answered 2xx. */
  deliveredIds (): number
  /** Distinct ids handled (2xx or refused as poison). */
  handledIds (): number
  hasHandled (id: number): boolean
  /** Highest offset handled per partition. */
  highestHandled (): Map<number, number>
  /** Answers `status` (default 503) to every request for `ms`; resolves when the window is over. */
  down (ms: number, status?: number): Promise<void>
  /** Injects a random fault (500, 502, 503, timeout, reset: equally likely) on `probability` of requests. */
  flaky (probability: number): void
  healthy (): void
  close (): Promise<void>
}

export interface ReceiverOptions {
  /** Ids answered 422 (non-retryable: dead-lettered at once). */
  poison?: (id: number) => boolean
  /** Seed of the fault PRNG. */
  seed?: number
}

interface Envelope { partition?: unknown, offset?: unknown, value?: unknown }

export async function startCountingReceiver (opts: ReceiverOptions = {}): Promise<CountingReceiver> {
  const random = seededRandom(opts.seed ?? 1)
  const poison = opts.poison ?? (() => false)
  const handled: Handling[] = []
  const delivered = new Set<number>()
  const handledSet = new Set<number>()
  const highest = new Map<number, number>()
  const stats: ReceiverStats = { requests: 0, delivered: 0, refused: 0, faults: {}, abandoned: 0 }
  const held = new Set<ServerResponse>()
  let downUntil = 0
  let downStatus = 503
  let flakyP = 0
  const fault = (kind: string): void => { stats.faults[kind] = (stats.faults[kind] ?? 0) + 1 }

  const answer = (req: IncomingMessage, res: ServerResponse, env: Envelope, raw: string): void => {
    const value = env.value as { id?: unknown, seq?: unknown } | null | undefined
    const id = typeof value?.id === 'number' ? value.id : undefined
    if (id === undefined || typeof env.partition !== 'number' || typeof env.offset !== 'string') {
      res.statusCode = 400
      res.end(`unexpected envelope: ${raw.slice(0, 200)}`)
      return
    }
    const now = performance.now()
    if (now < downUntil) {
      fault('503-window')
      res.statusCode = downStatus
      res.end()
      return
    }
    if (flakyP > 0 && random() < flakyP) {
      const r = random()
      if (r < 0.2) { fault('500'); res.statusCode = 500; res.end('injected'); return }
      if (r < 0.4) { fault('502'); res.statusCode = 502; res.end('injected'); return }
      if (r < 0.6) { fault('503'); res.statusCode = 503; res.end('injected'); return }
      if (r < 0.8) {
        // hold it: the gateway's per-attempt timeout fires, it aborts and retries; never answered 2xx
        fault('timeout')
        held.add(res)
        res.on('close', () => { held.delete(res) })
        return
      }
      fault('reset')
      req.socket.resetAndDestroy()
      return
    }
    const isPoison = poison(id)
    const h: Handling = {
      id,
      seq: typeof value?.seq === 'number' ? value.seq : -1,
      partition: env.partition,
      offset: Number(env.offset),
      webhookId: String(req.headers['webhook-id'] ?? ''),
      at: 0,
      kind: isPoison ? 'refused' : 'delivered'
    }
    // counted once the answer is handed to the socket: an answer to a request the gateway already
    // abandoned (its timeout fired) is not a delivery the gateway could know about
    res.once('finish', () => {
      h.at = performance.now()
      handled.push(h)
      handledSet.add(id)
      if (h.offset > (highest.get(h.partition) ?? -1)) highest.set(h.partition, h.offset)
      if (isPoison) stats.refused++
      else {
        stats.delivered++
        delivered.add(id)
      }
    })
    res.once('close', () => { if (!res.writableFinished) stats.abandoned++ })
    res.statusCode = isPoison ? 422 : 204
    res.end(isPoison ? 'poison' : undefined)
  }

  const server = createServer((req, res) => {
    stats.requests++
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('error', () => undefined)
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      let env: Envelope
      try {
        env = JSON.parse(raw) as Envelope
      } catch {
        res.statusCode = 400
        res.end()
        return
      }
      answer(req, res, env, raw)
    })
  })
  server.keepAliveTimeout = 5000
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port

  return {
    url: `http://127.0.0.1:${port}/hook`,
    handled,
    stats,
    deliveredIds: () => delivered.size,
    handledIds: () => handledSet.size,
    hasHandled: (id) => handledSet.has(id),
    highestHandled: () => new Map(highest),
    async down (ms, status = 503) {
      downStatus = status
      downUntil = performance.now() + ms
      await delay(ms) // the window itself is the fault, not a synchronisation wait
    },
    flaky (probability) { flakyP = probability },
    healthy () {
      flakyP = 0
      downUntil = 0
    },
    async close () {
      for (const res of held) res.destroy()
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

// ---------------------------------------------------------------------------------------------
// producer client

export interface Attempt {
  start: number
  end: number
  gateway: string
  /** HTTP status, or the error code (ECONNREFUSED, ECONNRESET, UND_ERR_HEADERS_TIMEOUT...) */
  outcome: string
  /** The request may have written the record (it reached the gateway and did not succeed). */
  ambiguous: boolean
  /** The error message of a failed answer (first 160 characters). */
  detail?: string
}

export interface MessageLedger {
  id: number
  seq: number
  key: string | undefined
  attempts: Attempt[]
  /** The 200 answer's position. */
  position?: { partition: number, offset: number }
  acceptedAt?: number
  replayed?: boolean
  /** A non-retryable answer (4xx other than 408/409/429). */
  rejected?: string
  /** Retries exhausted (attempts or time); the last outcome. */
  gaveUp?: string
}

export interface ProduceOptions {
  topic: string
  count: number
  /** Key = `k<id mod keys>`; 0 sends without a key. */
  keys: number
  /** POSTs in flight. */
  concurrency: number
  /** Messages started per second (0: as fast as possible). */
  ratePerSec: number
  /** Base URLs of the gateways to use now (round-robin per message and attempt). */
  gateways: () => string[]
  /** Idempotency-Key prefix (unique per run). */
  keyPrefix: string
  maxAttempts?: number
  maxRetryMs?: number
  attemptTimeoutMs?: number
}

/** Not written, whatever the request: safe to retry without counting a possible duplicate. */
const NOT_WRITTEN_CODES = new Set(['GW_IDEMPOTENCY_IN_PROGRESS', 'GW_REDIS_UNAVAILABLE', 'GW_OVERLOADED', 'GW_SHUTTING_DOWN'])
const RETRYABLE_STATUS = (s: number): boolean => s === 408 || s === 409 || s === 429 || s >= 500

export class ProducerClient {
  readonly ledger: MessageLedger[]
  accepted = 0
  done = 0
  private stopped = false
  private readonly agent: Agent
  private readonly opts: Required<ProduceOptions>

  constructor (opts: ProduceOptions) {
    this.opts = { maxAttempts: 1000, maxRetryMs: 120_000, attemptTimeoutMs: 15_000, ...opts }
    this.ledger = Array.from({ length: opts.count }, (_v, id) => ({
      id,
      seq: opts.keys > 0 ? Math.floor(id / opts.keys) : id,
      key: opts.keys > 0 ? `k${id % opts.keys}` : undefined,
      attempts: []
    }))
    this.agent = new Agent({ connections: Math.max(4, opts.concurrency), keepAliveTimeout: 4000, connect: { timeout: 3000 } })
  }

  async run (): Promise<void> {
    const start = performance.now()
    let next = 0
    const { count, ratePerSec, concurrency } = this.opts
    const worker = async (): Promise<void> => {
      for (;;) {
        const id = next++
        if (id >= count || this.stopped) return
        if (ratePerSec > 0) await delay(start + (id * 1000) / ratePerSec - performance.now())
        await this.send(id)
        this.done++
      }
    }
    try {
      await Promise.all(Array.from({ length: concurrency }, worker))
    } finally {
      await this.agent.close().catch(() => undefined)
    }
  }

  /** Starts no new message and no new retry (messages not finished are marked as given up). */
  stop (): void { this.stopped = true }

  private async send (id: number): Promise<void> {
    const m = this.ledger[id] as MessageLedger
    const body = JSON.stringify({ topic: this.opts.topic, ...(m.key !== undefined ? { key: m.key } : {}), value: { id, seq: m.seq } })
    const idempotencyKey = `${this.opts.keyPrefix}-${id}`
    const first = performance.now()
    for (let n = 0; ; n++) {
      const gateways = this.opts.gateways()
      const gateway = gateways[(id + n) % Math.max(1, gateways.length)] ?? ''
      const a: Attempt = { start: performance.now(), end: 0, gateway, outcome: '', ambiguous: false }
      m.attempts.push(a)
      let waitMs = Math.min(1000, 50 * 2 ** Math.min(n, 5)) * (0.75 + Math.random() / 2)
      try {
        const res = await request(`${gateway}/messages`, {
          method: 'POST',
          dispatcher: this.agent,
          headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
          body,
          headersTimeout: this.opts.attemptTimeoutMs,
          bodyTimeout: this.opts.attemptTimeoutMs
        })
        const text = await res.body.text()
        a.end = performance.now()
        a.outcome = String(res.statusCode)
        if (res.statusCode === 200) {
          const r = (JSON.parse(text) as { results?: Array<{ partition?: number, offset?: string }> }).results?.[0]
          m.position = { partition: Number(r?.partition), offset: Number(r?.offset) }
          m.acceptedAt = a.end
          m.replayed = res.headers['idempotent-replayed'] === 'true'
          this.accepted++
          return
        }
        if (!RETRYABLE_STATUS(res.statusCode)) {
          m.rejected = `${res.statusCode} ${text.slice(0, 300)}`
          return
        }
        let code = ''
        try {
          const e = JSON.parse(text) as { code?: unknown, message?: unknown }
          code = String(e.code ?? '')
          if (typeof e.message === 'string') a.detail = e.message.slice(0, 160)
        } catch { /* not JSON */ }
        a.outcome = code === '' ? a.outcome : `${a.outcome} ${code}`
        a.ambiguous = !NOT_WRITTEN_CODES.has(code)
        const retryAfter = Number(res.headers['retry-after'])
        if (Number.isFinite(retryAfter) && retryAfter > 0) waitMs = Math.min(waitMs, retryAfter * 1000)
      } catch (err) {
        a.end = performance.now()
        const code = (err as { code?: unknown }).code
        a.outcome = typeof code === 'string' ? code : (err instanceof Error ? err.name : 'error')
        // refused connections never reached a gateway; anything else may have
        a.ambiguous = a.outcome !== 'ECONNREFUSED' && a.outcome !== 'UND_ERR_CONNECT_TIMEOUT'
      }
      if (n + 1 >= this.opts.maxAttempts || performance.now() - first > this.opts.maxRetryMs || this.stopped) {
        m.gaveUp = a.outcome
        return
      }
      await delay(waitMs)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// the run and the verdict

export interface FaultEvent {
  name: string
  /**
   * `gateway`, `broker`, `redis`: infrastructure faults, which may cause duplicates within their in-flight
   * window (a `broker` fault also lets a POST be written twice inside one request); `webhook`: must cause none.
   */
  kind: 'webhook' | 'gateway' | 'broker' | 'redis'
  start: number
  end: number
  /** Until when a consumer generation may have ended because of this fault (default: `end`). */
  windowEnd: number
  /** `broker` faults: until when a produce request in flight may have been written twice (default: `end`). */
  writeWindowEnd: number
}

/** What a trigger may say about its fault's windows (performance.now() values); see FaultEvent. */
export interface FaultWindows {
  windowEnd?: number
  writeWindowEnd?: number
}

/** The group's committed offsets and the receiver's highest handled offsets at one moment. */
export interface Sample {
  at: number
  committed: Map<number, number>
  highest: Map<number, number>
}

export interface TriggerContext {
  producer: ProducerClient
  receiver: CountingReceiver
  log: (line: string) => void
}

export interface Trigger {
  name: string
  kind: FaultEvent['kind']
  /** Fires once this fraction of the messages is accepted / handled by the receiver. */
  when: { accepted?: number, handled?: number }
  /**
   * Injects the fault; resolves once the system is seen to have recovered (the end of the fault), optionally
   * with narrower windows: after `windowEnd` no consumer generation can end because of the fault (e.g. just
   * after a lone gateway was killed: its restart starts a fresh, stable generation); after `writeWindowEnd`
   * no produce request can be cut by it (e.g. once the killed broker is gone).
   */
  run: (ctx: TriggerContext) => Promise<FaultWindows | undefined | void>
}

export interface CountingOptions {
  fault: string
  brokers: string
  topic: string
  groupId: string
  deadLetterTopic: string
  receiver: CountingReceiver
  produce: ProduceOptions
  triggers?: Trigger[]
  /** Faults present for the whole run (e.g. the flaky receiver), shown in the report. */
  background?: Array<Pick<FaultEvent, 'name' | 'kind'>>
  drainTimeoutMs: number
  seed?: number
  log?: (line: string) => void
}

/** The row of the README table. */
export interface ResultRow {
  fault: string
  sent: number
  accepted: number
  delivered: number
  deadLettered: number
  lost: number
  duplicates: number
  durationMs: number
}

export interface Verdict extends ResultRow {
  /** Same partition and offset handled again. */
  redeliveries: number
  /** Same id written at another offset. */
  reproductions: number
  duplicateBound: number
  boundParts: { ambiguousAttempts: number, writeRetriesInFaults: number, uncommittedAtFaults: number }
  unexplainedRedeliveries: number
  unexplainedReproductions: number
  /** First handlings of a partition out of offset order. */
  orderViolations: number
  /** Records in the topic (offset within the watermarks) neither delivered nor dead-lettered. */
  skippedRecords: number
  /** Accepted positions whose record is not the id that was accepted there. */
  positionMismatches: number
  /** Ids delivered or dead-lettered that were never accepted. */
  extras: number
  rejected: number
  gaveUp: number
  drained: boolean
  produceAttempts: number
  retries: Record<string, number>
  receiver: ReceiverStats
  faults: FaultEvent[]
  seed: number | undefined
  /** Every invariant that does not hold, in words (empty: the run is clean). */
  problems: string[]
  examples: string[]
}

export async function runCounting (opts: CountingOptions): Promise<Verdict> {
  const log = opts.log ?? (() => undefined)
  const producer = new ProducerClient(opts.produce)
  const faults: FaultEvent[] = []
  const count = opts.produce.count
  const started = performance.now()
  const background: FaultEvent[] = (opts.background ?? []).map(b => ({ ...b, start: started, end: Number.NaN, windowEnd: Number.NaN, writeWindowEnd: Number.NaN }))

  // committed offsets, sampled until the run is drained (a failed sample, e.g. with the broker down, is skipped)
  const samples: Sample[] = []
  let sampling = true
  const sampler = (async () => {
    const admin = kafkaClient(opts.brokers, 'reliability-sampler').admin()
    try {
      await admin.connect()
    } catch { /* retried below through the admin's own reconnects */ }
    while (sampling) {
      try {
        const res = await admin.fetchOffsets({ groupId: opts.groupId, topics: [opts.topic] })
        const committed = new Map((res[0]?.partitions ?? []).map(p => [p.partition, Number(p.offset)]))
        samples.push({ at: performance.now(), committed, highest: opts.receiver.highestHandled() })
      } catch { /* no sample */ }
      await delay(SAMPLE_MS)
    }
    await admin.disconnect().catch(() => undefined)
  })()

  const producing = producer.run()
  const triggering = (async () => {
    for (const tr of opts.triggers ?? []) {
      const acceptedAt = Math.ceil((tr.when.accepted ?? 0) * count)
      const handledAt = Math.ceil((tr.when.handled ?? 0) * count)
      await waitUntil(`trigger "${tr.name}" (accepted ≥ ${acceptedAt}, handled ≥ ${handledAt})`,
        () => producer.accepted >= acceptedAt && opts.receiver.handledIds() >= handledAt, opts.drainTimeoutMs, 20)
      const f: FaultEvent = { name: tr.name, kind: tr.kind, start: performance.now(), end: Number.NaN, windowEnd: Number.NaN, writeWindowEnd: Number.NaN }
      log(`fault "${tr.name}" at accepted=${producer.accepted} handled=${opts.receiver.handledIds()}`)
      try {
        const windows = await tr.run({ producer, receiver: opts.receiver, log })
        if (typeof windows?.windowEnd === 'number') f.windowEnd = windows.windowEnd
        if (typeof windows?.writeWindowEnd === 'number') f.writeWindowEnd = windows.writeWindowEnd
      } finally {
        f.end = performance.now()
        if (Number.isNaN(f.windowEnd)) f.windowEnd = f.end
        if (Number.isNaN(f.writeWindowEnd)) f.writeWindowEnd = f.end
        faults.push(f)
        log(`fault "${tr.name}" over after ${Math.round(f.end - f.start)} ms`)
      }
    }
  })()
  const [produced, triggered] = await Promise.allSettled([producing, triggering])
  if (produced.status === 'rejected') throw produced.reason
  if (triggered.status === 'rejected') throw triggered.reason
  for (const b of background) b.end = performance.now()
  log(`produced: accepted ${producer.accepted}/${count} in ${Math.round(performance.now() - started)} ms`)

  // drained: the group committed the end of every partition (every record delivered or dead-lettered)
  let drained = false
  let progress: PartitionProgress[] = []
  await withAdmin(opts.brokers, async admin => {
    try {
      await waitUntil('the group to commit the end of every partition', async () => {
        progress = await groupProgress(admin, opts.groupId, opts.topic)
        return progress.every(p => p.committed >= p.high) ? true : undefined
      }, opts.drainTimeoutMs, 200)
      drained = true
    } catch {
      log(`not drained: ${progress.map(p => `p${p.partition} committed ${p.committed}/${p.high}`).join(', ')}`)
    }
  })
  const durationMs = performance.now() - started
  sampling = false
  await sampler
  const deadLetters = await readDeadLetters(opts.brokers, opts.deadLetterTopic)
  return verify({
    fault: opts.fault,
    ledger: producer.ledger,
    handled: opts.receiver.handled,
    receiver: opts.receiver.stats,
    deadLetters,
    progress,
    drained,
    faults: [...background, ...faults],
    samples,
    durationMs,
    seed: opts.seed
  })
}

export interface VerifyInput {
  fault: string
  ledger: MessageLedger[]
  handled: Handling[]
  receiver: ReceiverStats
  deadLetters: DeadLetterRecord[]
  /** Watermarks at the end (records outside them are not checked for skips). */
  progress: PartitionProgress[]
  drained: boolean
  faults: FaultEvent[]
  samples: Sample[]
  durationMs: number
  seed?: number | undefined
}

/**
 * The invariants:
 * - delivered ∪ dead-lettered == accepted: nothing lost, nothing extra (an extra is tolerated only for an
 *   id whose client gave up after an ambiguous attempt; a give-up is itself reported);
 * - every record in the topic was delivered or dead-lettered (no silent skip), and every accepted position
 *   holds the accepted id;
 * - per partition, first handlings come in increasing offset order;
 * - duplicates ≤ the in-flight bound, and each one has its cause (see the file header).
 */
export function verify (input: VerifyInput): Verdict {
  const { ledger, handled, deadLetters, faults } = input
  const problems: string[] = []
  const examples: string[] = []
  const example = (s: string): void => { if (examples.length < 20) examples.push(s) }
  const pos = (p: number, o: number): string => `${p}@${o}`

  const accepted = ledger.filter(m => m.position !== undefined)
  const acceptedIds = new Set(accepted.map(m => m.id))
  const deliveredIds = new Set(handled.filter(h => h.kind === 'delivered').map(h => h.id))
  const dlqIds = new Set(deadLetters.flatMap(d => d.id === undefined ? [] : [d.id]))

  // every handling (2xx, poison refusal) and dead letter, per id and per position
  const copies = new Map<number, number>()
  const positionsOf = new Map<number, Set<string>>()
  const idAt = new Map<string, Set<number>>()
  const firstHandled = new Map<string, Handling>()
  const handledCount = new Map<string, number>()
  const deliveredAt = new Map<string, number>()
  const note = (id: number, p: number, o: number): void => {
    const k = pos(p, o)
    let s = positionsOf.get(id)
    if (s === undefined) positionsOf.set(id, s = new Set())
    s.add(k)
    let ids = idAt.get(k)
    if (ids === undefined) idAt.set(k, ids = new Set())
    ids.add(id)
  }
  for (const h of handled) {
    note(h.id, h.partition, h.offset)
    const k = pos(h.partition, h.offset)
    if (h.kind === 'delivered') copies.set(h.id, (copies.get(h.id) ?? 0) + 1)
    if (!firstHandled.has(k)) firstHandled.set(k, h)
    handledCount.set(k, (handledCount.get(k) ?? 0) + 1)
    if (h.kind === 'delivered') deliveredAt.set(k, (deliveredAt.get(k) ?? 0) + 1)
  }
  const dlqCount = new Map<string, number>()
  for (const d of deadLetters) {
    if (d.id === undefined) {
      problems.push(`a dead letter without one of our ids at ${d.partition}@${d.offset}`)
      continue
    }
    note(d.id, d.originalPartition, d.originalOffset)
    copies.set(d.id, (copies.get(d.id) ?? 0) + 1)
    const k = pos(d.originalPartition, d.originalOffset)
    dlqCount.set(k, (dlqCount.get(k) ?? 0) + 1)
  }

  // lost, extra, mismatched
  let lost = 0
  let mismatches = 0
  for (const m of accepted) {
    if (!deliveredIds.has(m.id) && !dlqIds.has(m.id)) {
      lost++
      example(`lost: id ${m.id} accepted at ${pos(m.position?.partition ?? -1, m.position?.offset ?? -1)} after ${m.attempts.length} attempt(s)`)
    }
    const at = idAt.get(pos(m.position?.partition ?? -1, m.position?.offset ?? -1))
    if (at !== undefined && !(at.size === 1 && at.has(m.id))) {
      mismatches++
      example(`mismatch: id ${m.id} accepted at ${pos(m.position?.partition ?? -1, m.position?.offset ?? -1)}, which holds ids ${[...at].join(',')}`)
    }
  }
  const gaveUpAmbiguous = new Set(ledger.filter(m => m.gaveUp !== undefined && m.attempts.some(a => a.ambiguous)).map(m => m.id))
  let extras = 0
  for (const id of new Set([...deliveredIds, ...dlqIds])) {
    if (acceptedIds.has(id)) continue
    extras++
    if (!gaveUpAmbiguous.has(id)) {
      problems.push(`id ${id} was delivered or dead-lettered but never accepted, and no attempt of it was ambiguous`)
    }
  }

  // skipped records: every offset within the final watermarks must have been handled or dead-lettered
  let skipped = 0
  for (const p of input.progress) {
    for (let o = p.low; o < p.high; o++) {
      const k = pos(p.partition, o)
      if (!firstHandled.has(k) && !dlqCount.has(k)) {
        skipped++
        example(`skipped: record ${k} was never delivered nor dead-lettered`)
      }
    }
  }

  // order of first handlings per partition
  let orderViolations = 0
  const lastFirst = new Map<number, number>()
  const seenPos = new Set<string>()
  for (const h of handled) {
    const k = pos(h.partition, h.offset)
    if (seenPos.has(k)) continue
    seenPos.add(k)
    const prev = lastFirst.get(h.partition)
    if (prev !== undefined && h.offset < prev) {
      orderViolations++
      example(`order: partition ${h.partition} offset ${h.offset} first handled after offset ${prev}`)
    }
    lastFirst.set(h.partition, Math.max(prev ?? -1, h.offset))
  }

  // duplicates and their causes
  const infra = faults.filter(f => f.kind !== 'webhook')
  const inWindow = (t: number): boolean => infra.some(f => t >= f.start - REDELIVERY_LOOKBACK_MS && t <= f.windowEnd)
  const overlapsFault = (a: Attempt): boolean => faults.some(f => f.kind === 'broker' && a.start <= f.writeWindowEnd && a.end >= f.start)
  /** How many extra copies an attempt can have written (see the file header). */
  const extraWrites = (a: Attempt): number => {
    const cut = overlapsFault(a) ? GATEWAY_PRODUCER_RETRIES : 0
    if (a.ambiguous) return 1 + cut
    return a.outcome === '200' ? cut : 0
  }
  let duplicates = 0
  for (const n of copies.values()) duplicates += Math.max(0, n - 1)
  let reproductions = 0
  let unexplainedReproductions = 0
  for (const [id, set] of positionsOf) {
    const extra = set.size - 1
    if (extra <= 0) continue
    reproductions += extra
    const m = ledger[id]
    const causes = m?.attempts.reduce((n, a) => n + extraWrites(a), 0) ?? 0
    const how = `id ${id} written at ${[...set].join(', ')}; POST attempts ${m?.attempts.map(a => `${a.outcome}${a.ambiguous ? ' (ambiguous)' : ''}${overlapsFault(a) ? ' (cut by a broker fault)' : ''}${a.detail !== undefined ? ` "${a.detail}"` : ''}`).join(' → ') ?? '?'}`
    if (extra > causes) {
      unexplainedReproductions += extra - causes
      example(`unexplained reproduction: ${how}`)
    } else {
      example(`reproduction: ${how}`)
    }
  }
  let redeliveries = 0
  let unexplainedRedeliveries = 0
  const allPositions = new Set([...handledCount.keys(), ...dlqCount.keys()])
  for (const k of allPositions) {
    // copies of one record: 2xx deliveries and dead letters (a refusal is not a copy: its dead letter is)
    const times = deliveredAt.get(k) ?? 0
    const dl = dlqCount.get(k) ?? 0
    const first = firstHandled.get(k)
    const again = times + dl - 1
    if (again <= 0) continue
    redeliveries += again
    if (first === undefined || !inWindow(first.at)) {
      unexplainedRedeliveries += again
      example(`redelivery: ${k} delivered ${times}× and dead-lettered ${dl}×, first handled at ${first === undefined ? '?' : Math.round(first.at)} ms, outside every fault window`)
    }
  }

  const ambiguousAttempts = ledger.reduce((n, m) => n + m.attempts.filter(a => a.ambiguous).length, 0)
  const writeRetriesInFaults = ledger.reduce((n, m) => n + m.attempts.reduce((k, a) => k + extraWrites(a) - (a.ambiguous ? 1 : 0), 0), 0)
  const uncommittedAtFaults = infra.reduce((n, f) => n + uncommittedWindow(input.samples, f.start, f.windowEnd), 0)
  const duplicateBound = ambiguousAttempts + writeRetriesInFaults + uncommittedAtFaults

  const rejected = ledger.filter(m => m.rejected !== undefined)
  const gaveUp = ledger.filter(m => m.gaveUp !== undefined)
  for (const m of rejected.slice(0, 5)) example(`rejected: id ${m.id}: ${m.rejected ?? ''}`)
  for (const m of gaveUp.slice(0, 5)) example(`gave up: id ${m.id} after ${m.attempts.length} attempts: ${m.attempts.slice(-3).map(a => a.outcome).join(' → ')}`)
  const retries: Record<string, number> = {}
  for (const m of ledger) for (const a of m.attempts) if (a.outcome !== '200') retries[a.outcome] = (retries[a.outcome] ?? 0) + 1

  if (!input.drained) problems.push(`not drained: ${input.progress.map(p => `p${p.partition} committed ${p.committed} of ${p.high}`).join(', ')}`)
  if (rejected.length > 0) problems.push(`${rejected.length} message(s) rejected with a non-retryable answer`)
  if (gaveUp.length > 0) problems.push(`the client gave up on ${gaveUp.length} message(s)`)
  if (lost > 0) problems.push(`${lost} accepted message(s) lost (neither delivered nor dead-lettered)`)
  if (skipped > 0) problems.push(`${skipped} record(s) in the topic skipped (neither delivered nor dead-lettered)`)
  if (mismatches > 0) problems.push(`${mismatches} accepted position(s) hold another id`)
  if (orderViolations > 0) problems.push(`${orderViolations} first handling(s) out of partition order`)
  if (duplicates > duplicateBound) problems.push(`${duplicates} duplicates exceed the in-flight bound ${duplicateBound}`)
  if (unexplainedRedeliveries > 0) problems.push(`${unexplainedRedeliveries} redelivery(ies) of records first handled outside every fault window`)
  if (unexplainedReproductions > 0) problems.push(`${unexplainedReproductions} reproduction(s) without an ambiguous attempt or a broker fault`)

  return {
    fault: input.fault,
    sent: ledger.length,
    accepted: accepted.length,
    delivered: deliveredIds.size,
    deadLettered: [...dlqIds].filter(id => !deliveredIds.has(id)).length,
    lost,
    duplicates,
    durationMs: Math.round(input.durationMs),
    redeliveries,
    reproductions,
    duplicateBound,
    boundParts: { ambiguousAttempts, writeRetriesInFaults, uncommittedAtFaults },
    unexplainedRedeliveries,
    unexplainedReproductions,
    orderViolations,
    skippedRecords: skipped,
    positionMismatches: mismatches,
    extras,
    rejected: rejected.length,
    gaveUp: gaveUp.length,
    drained: input.drained,
    produceAttempts: ledger.reduce((n, m) => n + m.attempts.length, 0),
    retries,
    receiver: input.receiver,
    faults: faults.map(f => ({ ...f, start: Math.round(f.start), end: Math.round(f.end), windowEnd: Math.round(f.windowEnd), writeWindowEnd: Math.round(f.writeWindowEnd) })),
    seed: input.seed,
    problems,
    examples
  }
}

/**
 * The most records that can have been handled but not committed when a consumer generation ended in
 * [from, to]: per partition, the largest highest(s_i+1) + 1 − committed(s_i) over consecutive samples whose
 * interval meets [from, to] (both only grow, so this bounds the window at any moment in between), summed.
 */
export function uncommittedWindow (samples: Sample[], from: number, to: number): number {
  let total = 0
  const partitions = new Set(samples.flatMap(s => [...s.committed.keys(), ...s.highest.keys()]))
  for (const p of partitions) {
    let worst = 0
    for (let i = 0; i < samples.length; i++) {
      const a = samples[i] as Sample
      const b = samples[i + 1]
      // [a.at, b.at] must meet [from, to]; after the last sample, the window is open-ended
      if ((b !== undefined && b.at < from) || a.at > to) continue
      const highest = (b ?? a).highest.get(p) ?? -1
      const committed = Math.max(0, a.committed.get(p) ?? 0)
      worst = Math.max(worst, highest + 1 - committed)
    }
    total += worst
  }
  return total
}

// ---------------------------------------------------------------------------------------------
// reporting

export function resultRow (v: Verdict): ResultRow {
  const { fault, sent, accepted, delivered, deadLettered, lost, duplicates, durationMs } = v
  return { fault, sent, accepted, delivered, deadLettered, lost, duplicates, durationMs }
}

/** The README table: fault, sent, delivered, dead-lettered, lost, duplicates (and the bound), duration. */
export function markdownTable (verdicts: Verdict[]): string {
  const lines = [
    '| Fault | Sent | Delivered | Dead-lettered | Lost | Duplicates (bound) | Duration |',
    '|---|---:|---:|---:|---:|---:|---:|'
  ]
  for (const v of verdicts) {
    lines.push(`| ${v.fault} | ${v.sent} | ${v.delivered} | ${v.deadLettered} | ${v.lost} | ${v.duplicates} (≤ ${v.duplicateBound}) | ${(v.durationMs / 1000).toFixed(1)} s |`)
  }
  return lines.join('\n')
}

/** One line for logs and tap comments. */
export function summary (v: Verdict): string {
  return `${v.fault}: sent ${v.sent}, accepted ${v.accepted}, delivered ${v.delivered}, dead-lettered ${v.deadLettered}, lost ${v.lost}, ` +
    `duplicates ${v.duplicates} (redeliveries ${v.redeliveries}, reproductions ${v.reproductions}; bound ${v.duplicateBound} = ` +
    `${v.boundParts.ambiguousAttempts} ambiguous POSTs + ${v.boundParts.writeRetriesInFaults} producer retries of requests cut by a broker fault + ${v.boundParts.uncommittedAtFaults} handled-but-uncommitted at faults), ` +
    `${v.produceAttempts} POSTs, receiver ${v.receiver.requests} requests (${Object.entries(v.receiver.faults).map(([k, n]) => `${k}: ${n}`).join(', ') || 'no faults'}), ` +
    `${(v.durationMs / 1000).toFixed(1)} s`
}
