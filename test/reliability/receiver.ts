/**
 * The reliability harness's webhook receiver (node:http, port 0): records every delivery it answered 2xx
 * (envelope partition/offset, `webhook-id`), and can inject faults: 503 for a window, or random 5xx /
 * timeouts (request held until the gateway gives up) / TCP resets on p% of requests. Ids marked "poison"
 * are answered 422 (not retryable), so they must end up in the dead-letter topic `<groupId>.dlq`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { seededRandom } from './random.js'

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
      await sleep(ms) // the window itself is the fault, not a synchronisation wait
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
