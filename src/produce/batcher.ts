/**
 * The coalescing batcher: records of concurrent requests that share acks/timeout/compression are
 * gathered for `lingerMs` (or until `maxBatchRecords`/`maxBatchBytes`) and written with ONE
 * `producer.sendBatch`. A request's records are never split across Kafka requests, so a failed batch
 * fails exactly the requests in it. The pieces take the batcher's state (batch-state.ts): gathering
 * (batch-gathering.ts) and the write with its offsets (batch-write.ts).
 */
import { AppError } from '../errors.js'
import { dispatchAll, gatheringKey, join, measure } from './batch-gathering.js'
import { createBatcherState, type BatcherDeps, type BatcherState, type BatcherStats, type OutRecord } from './batch-state.js'
import type { SendOptions } from './types.js'

export { RECORD_BATCH_OVERHEAD_BYTES, type BatcherDeps, type BatcherStats, type OutRecord } from './batch-state.js'

export interface Batcher {
  /** Resolves with each record's offset (in order; undefined for acks = 0), or rejects with the batch's AppError. */
  send (records: OutRecord[], options: SendOptions): Promise<Array<string | undefined>>
  /** Sends every gathering batch now. */
  flush (): void
  /** Flushes, waits for every batch in flight, and refuses new records. */
  close (): Promise<void>
  stats (): BatcherStats
}

export function createBatcher (deps: BatcherDeps): Batcher {
  const state = createBatcherState(deps)
  return {
    send: (records, options) => send(state, records, options),
    flush: () => { dispatchAll(state) },
    close: () => close(state),
    stats: () => stats(state)
  }
}

function send (state: BatcherState, records: OutRecord[], options: SendOptions): Promise<Array<string | undefined>> {
  if (records.length === 0) return Promise.resolve([])
  if (state.closed) {
    return Promise.reject(new AppError(503, 'GW_SHUTTING_DOWN', 'the gateway is shutting down; retry on another instance', { retryAfterSeconds: 1 }))
  }
  const key = gatheringKey(records, options)
  const incoming = measure(records)
  return new Promise((resolve, reject) => { join(state, key, options, incoming, resolve, reject) })
}

async function close (state: BatcherState): Promise<void> {
  state.closed = true
  dispatchAll(state)
  while (state.inFlight.size > 0) await Promise.allSettled([...state.inFlight])
}

function stats (state: BatcherState): BatcherStats {
  let waiting = 0
  for (const b of state.gathering.values()) waiting += b.records.length
  const { totals } = state
  return {
    ...totals,
    perTopic: Object.fromEntries(Object.entries(totals.perTopic).map(([k, v]) => [k, { ...v }])),
    gathering: waiting,
    inFlight: state.inFlight.size
  }
}
