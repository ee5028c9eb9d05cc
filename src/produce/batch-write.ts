/**
 * One gathered batch written with ONE `producer.sendBatch`, and its offsets handed to the waiting sends.
 *
 * Offsets: records arrive with their partition already chosen, and kafkajs keeps the order of the
 * messages of one partition inside a sendBatch, so record i of topic-partition tp in the batch was
 * written at `baseOffset(tp) + (its index among tp's records in this batch)`.
 */
import type { Message, RecordMetadata, TopicMessages } from 'kafkajs'
import { AppError } from '../errors.js'
import { compressionType } from '../kafka/codecs.js'
import { tpKey, type BatcherState, type Gathering, type OutRecord } from './batch-state.js'

/** How often the records of partitions kafkajs left unanswered are sent again before the batch fails. */
const MISSING_PARTITION_RESENDS = 3

type TopicStats = Record<string, { records: number, bytes: number }>

export async function writeBatch (state: BatcherState, batch: Gathering): Promise<void> {
  const { deps } = state
  const started = performance.now()
  const { records, options } = batch
  const { indexInPartition, topicStats } = tally(records)
  const topicMessages = topicMessagesOf(records)
  const topics = topicMessages.map(tm => tm.topic)

  let offsets: Array<string | undefined>
  let error: AppError | undefined
  try {
    const producer = await deps.getProducer(options.acks)
    const sendOptions = { acks: options.acks, timeout: options.timeout, compression: compressionType(options.compression) }
    const metadata = await producer.sendBatch({ topicMessages, ...sendOptions })
    // kafkajs can answer without some partitions: when a partition's leader moves to a broker that already
    // answered for others, its retry skips that broker (producer/sendMessages.js keeps one response per
    // broker). Those records were refused, not written: send them again, each partition whole, so
    // baseOffset + index still holds
    for (let attempt = 1; options.acks !== 0 && attempt <= MISSING_PARTITION_RESENDS; attempt++) {
      const missing = unanswered(records, metadata)
      if (missing.length === 0) break
      deps.onResend?.(missing.length, attempt)
      metadata.push(...await producer.sendBatch({ topicMessages: topicMessagesOf(missing), ...sendOptions }))
    }
    offsets = options.acks === 0 ? new Array<undefined>(records.length).fill(undefined) : offsetsOf(records, indexInPartition, metadata)
  } catch (err) {
    error = deps.mapError(err, topics)
    offsets = []
  }

  const payloadBytes = countBatch(state, records.length, topicStats, error)
  deps.observer?.({
    kind: 'batch', records: records.length, bytes: payloadBytes, requests: batch.waiters.length, perTopic: topicStats,
    compression: options.compression, acks: options.acks, durationMs: performance.now() - started,
    ...(error !== undefined ? { error: error.code } : {})
  })

  for (const w of batch.waiters) {
    if (error !== undefined) w.reject(error)
    else w.resolve(offsets.slice(w.start, w.start + w.count))
  }
}

/** Each record's index among its partition's records in the batch, and the batch's counts per topic. */
function tally (records: OutRecord[]): { indexInPartition: number[], topicStats: TopicStats } {
  const indexInPartition = new Array<number>(records.length)
  const seen = new Map<string, number>()
  const topicStats: TopicStats = {}
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
  return { indexInPartition, topicStats }
}

function topicMessagesOf (records: OutRecord[]): TopicMessages[] {
  const perTopic = new Map<string, Message[]>()
  for (const r of records) {
    let messages = perTopic.get(r.topic)
    if (messages === undefined) perTopic.set(r.topic, messages = [])
    messages.push({ key: r.key, value: r.value, partition: r.partition, headers: r.headers })
  }
  return [...perTopic].map(([topic, messages]) => ({ topic, messages }))
}

/** The records of partitions Kafka's answer does not name. */
function unanswered (records: OutRecord[], metadata: RecordMetadata[]): OutRecord[] {
  const answered = new Set(metadata.map(m => tpKey(m.topicName, m.partition)))
  return records.filter(r => !answered.has(tpKey(r.topic, r.partition)))
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

/** Adds the batch to the totals (its records and bytes only when written); returns its key + value bytes. */
function countBatch (state: BatcherState, records: number, topicStats: TopicStats, error: AppError | undefined): number {
  const { totals } = state
  let payloadBytes = 0
  for (const s of Object.values(topicStats)) payloadBytes += s.bytes
  totals.batches++
  if (error !== undefined) totals.failedBatches++
  else {
    totals.records += records
    totals.bytes += payloadBytes
    totals.largestBatch = Math.max(totals.largestBatch, records)
    for (const [topic, s] of Object.entries(topicStats)) {
      const t = totals.perTopic[topic] ??= { records: 0, bytes: 0 }
      t.records += s.records
      t.bytes += s.bytes
    }
  }
  return payloadBytes
}
