/**
 * The reliability harness's producer client: POSTs N messages with unique ids (value `{ id, seq }`; key
 * `k<id mod K>` or none) and retries 503/504/5xx, 408, 409 (Idempotency-Key in progress) and connection
 * errors with the SAME Idempotency-Key, within bounded attempts and time. It records, per id, every attempt
 * and the accepted position (partition, offset) of the 200 answer.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request } from 'undici'

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
        if (ratePerSec > 0) await sleep(Math.max(0, start + (id * 1000) / ratePerSec - performance.now()))
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
      await sleep(waitMs)
    }
  }
}
