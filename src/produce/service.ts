/**
 * The produce service: POST /messages without HTTP. A request is written once (write.ts), or, with an
 * Idempotency-Key, at most once per key and body: a repeat is answered with the stored first answer.
 */
import { AppError } from '../errors.js'
import type { BatcherStats } from './batcher.js'
import { assertIdempotencyKey, bodyHash } from './idempotency.js'
import { createProduceState, type ProduceServiceDeps, type ProduceState } from './state.js'
import type { ProduceContext, ProduceObserver, ProduceOutcome, ProduceRequestInput } from './types.js'
import { produceOnce, type WrittenRequest } from './write.js'

export type { ProduceKafka, ProduceServiceDeps } from './state.js'
export type { ProduceContext } from './types.js'

export interface ProduceService {
  produce (request: ProduceRequestInput, ctx: ProduceContext): Promise<ProduceOutcome>
  /** Sends gathering batches now (shutdown begins). */
  flush (): void
  /** Flushes, waits for batches in flight, refuses new produces. */
  close (): Promise<void>
  stats (): BatcherStats
  /** Adds a metrics hook (batch and request events); returns its removal. */
  observe (observer: ProduceObserver): () => void
}

export function createProduceService (deps: ProduceServiceDeps): ProduceService {
  const state = createProduceState(deps)
  return {
    produce: (request, ctx) => produce(state, request, ctx),
    flush: () => state.batcher.flush(),
    close: () => state.batcher.close(),
    stats: () => state.batcher.stats(),
    observe (observer) {
      state.observers.add(observer)
      return () => { state.observers.delete(observer) }
    }
  }
}

async function produce (state: ProduceState, request: ProduceRequestInput, ctx: ProduceContext): Promise<ProduceOutcome> {
  const key = ctx.idempotencyKey
  if (key === undefined) return { ...(await produceOnce(state, request, ctx)), replayed: false }
  assertIdempotencyKey(key)
  const { idempotency } = state
  if (idempotency === undefined) throw new AppError(503, 'GW_REDIS_UNAVAILABLE', 'Idempotency-Key is not available on this gateway')
  const hash = bodyHash(request)
  const begun = await idempotency.begin(key, hash)
  if (begun.kind === 'replay') return { status: begun.status, body: begun.body, replayed: true }
  let outcome: WrittenRequest
  try {
    outcome = await produceOnce(state, request, ctx)
  } catch (err) {
    await idempotency.release(key, begun.token, hash)
    throw err
  }
  await idempotency.complete(key, begun.token, hash, outcome.status, outcome.body)
  return { ...outcome, replayed: false }
}
