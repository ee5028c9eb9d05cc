/**
 * The deliveries in progress. Each is stopped (stopDelivery) by its ctx.signal, close(), or a lost group
 * membership; while it runs, one timer calls its `ctx.heartbeat()` every `heartbeatIntervalMs` (kafkajs
 * throttles it to its heartbeat interval), so a slow or down endpoint never costs the consumer its group
 * membership. A heartbeat failing with a membership error (rebalance in progress, unknown member, illegal
 * generation, fenced) stops the delivery: the partition may now belong to someone else.
 */
import { performance } from 'node:perf_hooks'
import type { Logger } from 'pino'
import { isMembershipError } from '../../kafka/membership.js'
import type { DeliveryContext } from '../types.js'
import { errorText } from './error-text.js'

/**
 * A delivery in progress. The fast path (one attempt that succeeds) creates no AbortController; waits
 * and dead-letter writes get a signal of their own (`waitSignal`) only when they happen.
 */
export interface Active {
  ctx: DeliveryContext
  started: number
  heartbeatPending: boolean
  /** Why the delivery was stopped; undefined while it runs. */
  stopReason: Error | undefined
  /** The HTTP attempt under way (its dispatch handler). */
  attempt: { abort: (reason: Error) => void } | undefined
  /** Aborted on stop: created on the first wait (retry backoff, dead-letter write). */
  wait: AbortController | undefined
}

/** Thrown by a step that found its delivery stopped. */
export class AbortedError extends Error {}

export interface ActiveDeliveries {
  readonly all: Set<Active>
  /** One abort listener per distinct ctx.signal (partitions of one consumer may share a signal). */
  readonly bySignal: Map<AbortSignal, { actives: Set<Active>, onAbort: () => void }>
  readonly heartbeatIntervalMs: number
  readonly log: Logger
  ticker: NodeJS.Timeout | undefined
  /** Set by stopAll (the deliverer closed): no new timer. */
  closed: boolean
}

export function createActiveDeliveries (heartbeatIntervalMs: number, log: Logger): ActiveDeliveries {
  return { all: new Set(), bySignal: new Map(), heartbeatIntervalMs, log, ticker: undefined, closed: false }
}

export function stopDelivery (a: Active, reason: Error): void {
  if (a.stopReason !== undefined) return
  a.stopReason = reason
  a.attempt?.abort(reason)
  a.wait?.abort(reason)
}

export function waitSignal (a: Active): AbortSignal {
  if (a.wait === undefined) {
    a.wait = new AbortController()
    if (a.stopReason !== undefined) a.wait.abort(a.stopReason)
  }
  return a.wait.signal
}

/** The timer's tick: heartbeats every delivery that has been running for at least an interval. */
function heartbeatDue (deliveries: ActiveDeliveries): void {
  const t = performance.now()
  for (const a of deliveries.all) {
    if (a.heartbeatPending || t - a.started < deliveries.heartbeatIntervalMs) continue
    a.heartbeatPending = true
    a.ctx.heartbeat().then(() => { a.heartbeatPending = false }, (err: unknown) => {
      a.heartbeatPending = false
      if (isMembershipError(err)) {
        stopDelivery(a, new Error(`group membership lost (${String((err as { type?: unknown }).type)})`))
      } else {
        deliveries.log.warn({ groupId: a.ctx.groupId, err: errorText(err) }, 'consumer heartbeat failed during webhook delivery')
      }
    })
  }
}

export function track (deliveries: ActiveDeliveries, ctx: DeliveryContext): Active {
  const a: Active = { ctx, started: performance.now(), heartbeatPending: false, stopReason: undefined, attempt: undefined, wait: undefined }
  deliveries.all.add(a)
  let entry = deliveries.bySignal.get(ctx.signal)
  if (entry === undefined) {
    const actives = new Set<Active>()
    const onAbort = (): void => { for (const x of actives) stopDelivery(x, new Error('aborted')) }
    ctx.signal.addEventListener('abort', onAbort, { once: true })
    entry = { actives, onAbort }
    deliveries.bySignal.set(ctx.signal, entry)
  }
  entry.actives.add(a)
  if (deliveries.ticker === undefined && !deliveries.closed) {
    // lives as long as the deliverer (unref'd): cheaper than one timer per delivery
    deliveries.ticker = setInterval(heartbeatDue, deliveries.heartbeatIntervalMs, deliveries)
    deliveries.ticker.unref()
  }
  return a
}

export function untrack (deliveries: ActiveDeliveries, a: Active): void {
  deliveries.all.delete(a)
  const entry = deliveries.bySignal.get(a.ctx.signal)
  if (entry !== undefined) {
    entry.actives.delete(a)
    if (entry.actives.size === 0) {
      a.ctx.signal.removeEventListener('abort', entry.onAbort)
      deliveries.bySignal.delete(a.ctx.signal)
    }
  }
}

/** Stops every delivery and the timer for good (the deliverer closes). */
export function stopAll (deliveries: ActiveDeliveries, reason: string): void {
  deliveries.closed = true
  clearInterval(deliveries.ticker)
  for (const a of deliveries.all) stopDelivery(a, new Error(reason))
}
