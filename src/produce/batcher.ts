/**
 * The coalescing batcher: records of concurrent requests that share acks/timeout/compression are
 * gathered for `lingerMs` (or until `maxBatchRecords`/`maxBatchBytes`) and written with ONE
 * `producer.sendBatch`. A request's records are never split across Kafka requests, so a failed batch
 * fails exactly the requests in it.
 *
 * Offsets: records arrive with their partition already chosen, and kafkajs keeps the order of the
 * messages of one partition inside a sendBatch, so record i of topic-partition tp in the batch was
 * written at `baseOffset(tp) + (its index among tp's records in this batch)`.
 */
import type { Message, Producer, RecordMetadata, TopicMessages } from 'kafkajs'
import { AppError } from '../errors.js'
import { compressionType } from '../kafka/codecs.js'
import type { ProduceObserver, SendOptions } from './types.js'

/** A record with its partition decided (see plan.ts), ready for Kafka. */
export interface OutRecord {
  topic: string
  partition: number
  key: Buffer | null
  value: Buffer | null
  headers: Record<string, string>
  /** Approximate encoded size (key, value, headers, framing): what PRODUCE_MAX_BATCH_BYTES bounds. */
  bytes: number
  /** Key + value bytes: what metrics count. */
  payloadBytes: number
  /**
   * The topic's max.message.bytes: Kafka refuses a partition's record batch above it, failing the whole
   * sendBatch, so the batcher never lets the records of one partition grow past it.
   */
  partitionLimit: number
}

/** Record batch header (v2) bytes, counted once per partition against `partitionLimit`. */
export const RECORD_BATCH_OVERHEAD_BYTES = 61

export interface BatcherDeps {
  getProducer: () => Promise<Producer>
  lingerMs: number
  maxBatchRecords: number
  maxBatchBytes: number
  /** kafkajs error → the gateway's error (src/kafka/error-mapping.ts). */
  mapError: (err: unknown, topics: string[]) => AppError
  /** Called after every batch (must not throw). */
  observer?: ProduceObserver
  /** Called when records kafkajs left unanswered are sent again (must not throw). */
  onResend?: (records: number, attempt: number) => void
}

export interface BatcherStats {
  batches: number
  failedBatches: number
  records: number
  /** Key + value bytes written. */
  bytes: number
  /** Records of the largest batch sent. */
  largestBatch: number
  /** Records gathering now (not yet handed to Kafka). */
  gathering: number
  /** Batches handed to Kafka and not yet answered. */
  inFlight: number
  perTopic: Record<string, { records: number, bytes: number }>
}

export interface Batcher {
  /** Resolves with each record's offset (in order; undefined for acks = 0), or rejects with the batch's AppError. */
  send (records: OutRecord[], options: SendOptions): Promise<Array<string | undefined>>
  /** Sends every gathering batch now. */
  flush (): void
  /** Flushes, waits for every batch in flight, and refuses new records. */
  close (): Promise<void>
  stats (): BatcherStats
}

interface Waiter {
  start: number
  count: number
  resolve: (offsets: Array<string | undefined>) => void
  reject: (err: AppError) => void
}

interface Gathering {
  key: string
  options: SendOptions
  records: OutRecord[]
  bytes: number
  /** Bytes per topic-partition (batch overhead included), against each record's partitionLimit. */
  partitionBytes: Map<string, number>
  waiters: Waiter[]
  timer: NodeJS.Timeout | undefined
  immediate: NodeJS.Immediate | undefined
}

const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`

/** How often the records of partitions kafkajs left unanswered are sent again before the batch fails. */
const MISSING_PARTITION_RESENDS = 3

function topicMessagesOf (records: OutRecord[]): TopicMessages[] {
  const perTopic = new Map<string, Message[]>()
  for (const r of records) {
    let messages = perTopic.get(r.topic)
    if (messages === undefined) perTopic.set(r.topic, messages = [])
    messages.push({ key: r.key, value: r.value, partition: r.partition, headers: r.headers })
  }
  return [...perTopic].map(([topic, messages]) => ({ topic, messages }))
}

export function createBatcher (deps: BatcherDeps): Batcher {
  const { lingerMs, maxBatchRecords, maxBatchBytes, observer } = deps
  const gathering = new Map<string, Gathering>()
  const inFlight = new Set<Promise<void>>()
  let closed = false
  const totals: Omit<BatcherStats, 'gathering' | 'inFlight'> = { batches: 0, failedBatches: 0, records: 0, bytes: 0, largestBatch: 0, perTopic: {} }

  function dispatch (batch: Gathering): void {
    if (gathering.get(batch.key) === batch) gathering.delete(batch.key)
    if (batch.timer !== undefined) clearTimeout(batch.timer)
    if (batch.immediate !== undefined) clearImmediate(batch.immediate)
    const run = write(batch).finally(() => { inFlight.delete(run) })
    inFlight.add(run)
  }

  async function write (batch: Gathering): Promise<void> {
    const started = performance.now()
    const { records, options } = batch
    const indexInPartition = new Array<number>(records.length)
    const seen = new Map<string, number>()
    const topicStats: Record<string, { records: number, bytes: number }> = {}
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as OutRecord
      const k = tpKey(r.topic, r.partition)
      const n = seen.get(k) ?? 0
      indexInPartition[i] = n
      seen.set(k, n + 1)
      const ts = topicStats[r.topic] ??= { records: 0, bytes: 0 }
      ts.records++
      ts.bytes += r.payloadBytes
    }
    const topicMessages = topicMessagesOf(records)
    const topics = topicMessages.map(tm => tm.topic)

    let offsets: Array<string | undefined>
    let error: AppError | undefined
    try {
      const producer = await deps.getProducer()
      const sendOptions = { acks: options.acks, timeout: options.timeout, compression: compressionType(options.compression) }
      const metadata = await producer.sendBatch({ topicMessages, ...sendOptions })
      // kafkajs can answer without some partitions: when a partition's leader moves to a broker that already
      // answered for others, its retry skips that broker (producer/sendMessages.js keeps one response per
      // broker). Those records were refused, not written: send them again, each partition whole, so
      // baseOffset + index still holds
      for (let attempt = 1; options.acks !== 0 && attempt <= MISSING_PARTITION_RESENDS; attempt++) {
        const answered = new Set(metadata.map(m => tpKey(m.topicName, m.partition)))
        const missing = records.filter(r => !answered.has(tpKey(r.topic, r.partition)))
        if (missing.length === 0) break
        deps.onResend?.(missing.length, attempt)
        metadata.push(...await producer.sendBatch({ topicMessages: topicMessagesOf(missing), ...sendOptions }))
      }
      offsets = options.acks === 0 ? new Array<undefined>(records.length).fill(undefined) : offsetsOf(records, indexInPartition, metadata)
    } catch (err) {
      error = deps.mapError(err, topics)
      offsets = []
    }

    let payloadBytes = 0
    for (const s of Object.values(topicStats)) payloadBytes += s.bytes
    totals.batches++
    if (error !== undefined) totals.failedBatches++
    else {
      totals.records += records.length
      totals.bytes += payloadBytes
      totals.largestBatch = Math.max(totals.largestBatch, records.length)
      for (const [topic, s] of Object.entries(topicStats)) {
        const t = totals.perTopic[topic] ??= { records: 0, bytes: 0 }
        t.records += s.records
        t.bytes += s.bytes
      }
    }
    observer?.({
      kind: 'batch', records: records.length, bytes: payloadBytes, requests: batch.waiters.length, perTopic: topicStats,
      compression: options.compression, acks: options.acks, durationMs: performance.now() - started,
      ...(error !== undefined ? { error: error.code } : {})
    })

    for (const w of batch.waiters) {
      if (error !== undefined) w.reject(error)
      else w.resolve(offsets.slice(w.start, w.start + w.count))
    }
  }

  function offsetsOf (records: OutRecord[], indexInPartition: number[], metadata: RecordMetadata[]): string[] {
    const base = new Map<string, bigint>()
    for (const m of metadata) {
      const b = m.baseOffset ?? m.offset
      if (b !== undefined) base.set(tpKey(m.topicName, m.partition), BigInt(b))
    }
    return records.map((r, i) => {
      const b = base.get(tpKey(r.topic, r.partition))
      if (b === undefined) {
        throw new AppError(503, 'GW_KAFKA_UNAVAILABLE', `Kafka answered without an offset for ${r.topic}/${r.partition} (its leader moving?) after ${MISSING_PARTITION_RESENDS} resends; retry`, { retryAfterSeconds: 1 })
      }
      return (b + BigInt(indexInPartition[i] as number)).toString()
    })
  }

  function open (key: string, options: SendOptions): Gathering {
    const batch: Gathering = { key, options, records: [], bytes: 0, partitionBytes: new Map(), waiters: [], timer: undefined, immediate: undefined }
    if (lingerMs > 0) batch.timer = setTimeout(() => dispatch(batch), lingerMs)
    else batch.immediate = setImmediate(() => dispatch(batch))
    gathering.set(key, batch)
    return batch
  }

  return {
    send (records, options) {
      if (records.length === 0) return Promise.resolve([])
      if (closed) {
        return Promise.reject(new AppError(503, 'GW_SHUTTING_DOWN', 'the gateway is shutting down; retry on another instance', { retryAfterSeconds: 1 }))
      }
      // per topic as well as options: one topic's rejection (say, a deleted topic) must not fail another's requests
      const key = `${records[0]?.topic ?? ''}|${options.acks}|${options.timeout}|${options.compression}`
      let bytes = 0
      const own = new Map<string, { bytes: number, limit: number }>()
      for (const r of records) {
        bytes += r.bytes
        const k = tpKey(r.topic, r.partition)
        const p = own.get(k)
        if (p === undefined) own.set(k, { bytes: r.bytes, limit: r.partitionLimit })
        else p.bytes += r.bytes
      }
      const fits = (batch: Gathering): boolean => {
        if (batch.records.length + records.length > maxBatchRecords || batch.bytes + bytes > maxBatchBytes) return false
        for (const [k, p] of own) {
          const gathered = batch.partitionBytes.get(k)
          if (gathered !== undefined && gathered + p.bytes > p.limit) return false
        }
        return true
      }
      return new Promise((resolve, reject) => {
        let batch = gathering.get(key)
        // a request never straddles two Kafka requests: when it does not fit, the gathered batch goes first
        if (batch !== undefined && !fits(batch)) {
          dispatch(batch)
          batch = undefined
        }
        batch ??= open(key, options)
        batch.waiters.push({ start: batch.records.length, count: records.length, resolve, reject })
        for (const r of records) batch.records.push(r)
        batch.bytes += bytes
        for (const [k, p] of own) batch.partitionBytes.set(k, (batch.partitionBytes.get(k) ?? RECORD_BATCH_OVERHEAD_BYTES) + p.bytes)
        if (batch.records.length >= maxBatchRecords || batch.bytes >= maxBatchBytes) dispatch(batch)
      })
    },
    flush () {
      for (const batch of [...gathering.values()]) dispatch(batch)
    },
    async close () {
      closed = true
      for (const batch of [...gathering.values()]) dispatch(batch)
      while (inFlight.size > 0) await Promise.allSettled([...inFlight])
    },
    stats () {
      let waiting = 0
      for (const b of gathering.values()) waiting += b.records.length
      return {
        ...totals,
        perTopic: Object.fromEntries(Object.entries(totals.perTopic).map(([k, v]) => [k, { ...v }])),
        gathering: waiting,
        inFlight: inFlight.size
      }
    }
  }
}
