/**
 * Records of concurrent sends that share a topic and acks/timeout/compression gather in one batch for
 * `lingerMs` (or until `maxBatchRecords`/`maxBatchBytes`), then the batch is written (batch-write.ts).
 * A send's records are never split across Kafka requests, so a failed batch fails exactly the sends in it.
 */
import { RECORD_BATCH_OVERHEAD_BYTES, tpKey, type BatcherDeps, type BatcherState, type Gathering, type OutRecord, type Waiter } from './batch-state.js'
import { writeBatch } from './batch-write.js'
import type { SendOptions } from './types.js'

/** The records of one send, measured once. */
export interface Incoming {
  readonly records: OutRecord[]
  readonly bytes: number
  /** The send's bytes per topic-partition, with that partition's limit. */
  readonly own: Map<string, { bytes: number, limit: number }>
}

/** Per topic as well as options: one topic's rejection (say, a deleted topic) must not fail another's sends. */
export function gatheringKey (records: OutRecord[], options: SendOptions): string {
  return `${records[0]?.topic ?? ''}|${options.acks}|${options.timeout}|${options.compression}`
}

export function measure (records: OutRecord[]): Incoming {
  let bytes = 0
  const own = new Map<string, { bytes: number, limit: number }>()
  for (const r of records) {
    bytes += r.bytes
    const k = tpKey(r.topic, r.partition)
    const p = own.get(k)
    if (p === undefined) own.set(k, { bytes: r.bytes, limit: r.partitionLimit })
    else p.bytes += r.bytes
  }
  return { records, bytes, own }
}

/** Adds the send to its gathering batch; when it does not fit there, the gathered batch goes first. */
export function join (state: BatcherState, key: string, options: SendOptions, incoming: Incoming, resolve: Waiter['resolve'], reject: Waiter['reject']): void {
  const { maxBatchRecords, maxBatchBytes } = state.deps
  let batch = state.gathering.get(key)
  if (batch !== undefined && !fits(state.deps, batch, incoming)) {
    dispatch(state, batch)
    batch = undefined
  }
  batch ??= open(state, key, options)
  batch.waiters.push({ start: batch.records.length, count: incoming.records.length, resolve, reject })
  for (const r of incoming.records) batch.records.push(r)
  batch.bytes += incoming.bytes
  for (const [k, p] of incoming.own) batch.partitionBytes.set(k, (batch.partitionBytes.get(k) ?? RECORD_BATCH_OVERHEAD_BYTES) + p.bytes)
  if (batch.records.length >= maxBatchRecords || batch.bytes >= maxBatchBytes) dispatch(state, batch)
}

function fits (deps: BatcherDeps, batch: Gathering, incoming: Incoming): boolean {
  if (batch.records.length + incoming.records.length > deps.maxBatchRecords || batch.bytes + incoming.bytes > deps.maxBatchBytes) return false
  for (const [k, p] of incoming.own) {
    const gathered = batch.partitionBytes.get(k)
    if (gathered !== undefined && gathered + p.bytes > p.limit) return false
  }
  return true
}

function open (state: BatcherState, key: string, options: SendOptions): Gathering {
  const { lingerMs } = state.deps
  const batch: Gathering = { key, options, records: [], bytes: 0, partitionBytes: new Map(), waiters: [], timer: undefined, immediate: undefined }
  if (lingerMs > 0) batch.timer = setTimeout(() => dispatch(state, batch), lingerMs)
  else batch.immediate = setImmediate(() => dispatch(state, batch))
  state.gathering.set(key, batch)
  return batch
}

/** Hands the batch to Kafka now: it stops gathering and is in flight until answered. */
export function dispatch (state: BatcherState, batch: Gathering): void {
  if (state.gathering.get(batch.key) === batch) state.gathering.delete(batch.key)
  if (batch.timer !== undefined) clearTimeout(batch.timer)
  if (batch.immediate !== undefined) clearImmediate(batch.immediate)
  const run = writeBatch(state, batch).finally(() => { state.inFlight.delete(run) })
  state.inFlight.add(run)
}

export function dispatchAll (state: BatcherState): void {
  for (const batch of [...state.gathering.values()]) dispatch(state, batch)
}
