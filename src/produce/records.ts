/**
 * A request's Kafka records as they are built (their partitions chosen in targets.ts), with their sizes
 * checked against the topic's max.message.bytes, per record and per partition; and the answer's results.
 */
import { AppError } from '../errors.js'
import { ARRIVAL_HEADER } from '../kafka/record-format.js'
import { RECORD_BATCH_OVERHEAD_BYTES, type OutRecord } from './batcher.js'
import { headerBytes } from './encoding.js'
import type { EncodedMessage } from './plan.js'
import type { ProduceWarning, RecordResult } from './types.js'

/** One request's records as they are built, and what its topic allows. */
export interface RequestRecords {
  readonly topic: string
  readonly ids: number[]
  readonly idSet: Set<number>
  /** The topic's max.message.bytes. */
  readonly limit: number
  /** Bytes of the headers every record of the request carries (departure, x-request-id). */
  readonly fixedHeaderBytes: number
  readonly records: OutRecord[]
  /** The message index of each record (a message with `partitions` gives several). */
  readonly indexes: number[]
  /** Bytes per partition, record batch overhead included. */
  readonly perPartition: Map<number, number>
  readonly warnings: ProduceWarning[]
}

export function startRecords (topic: string, ids: number[], limit: number, fixedHeaderBytes: number): RequestRecords {
  return { topic, ids, idSet: new Set(ids), limit, fixedHeaderBytes, records: [], indexes: [], perPartition: new Map(), warnings: [] }
}

const recordTooLarge = (field: string, topic: string, bytes: number, limit: number): AppError =>
  new AppError(413, 'GW_PAYLOAD_TOO_LARGE', `${field}: the record takes up to ${bytes} bytes, more than topic "${topic}" accepts (max.message.bytes ${limit})`,
    { details: [{ field, rule: 'maxMessageBytes', message: `topic "${topic}" accepts records up to ${limit} bytes`, maxMessageBytes: limit }] })

/** The message's records, one per target partition; 413 when one would exceed the topic's limit. */
export function addRecords (acc: RequestRecords, m: EncodedMessage, targets: number[], headers: Record<string, string>): void {
  const { topic, limit } = acc
  const bytes = m.bytes + acc.fixedHeaderBytes + (m.arrival !== undefined && m.partitions === undefined ? headerBytes(ARRIVAL_HEADER, m.arrival) : 0)
  if (bytes + RECORD_BATCH_OVERHEAD_BYTES > limit) throw recordTooLarge(`${m.prefix}/value`, topic, bytes, limit)
  const payloadBytes = (m.key?.length ?? 0) + (m.value?.length ?? 0)
  for (const partition of targets) {
    acc.records.push({ topic, partition, key: m.key, value: m.value, headers, bytes, payloadBytes, partitionLimit: limit })
    acc.indexes.push(m.index)
    acc.perPartition.set(partition, (acc.perPartition.get(partition) ?? RECORD_BATCH_OVERHEAD_BYTES) + bytes)
  }
}

/** 413 when the request's records for one partition exceed what Kafka takes in one record batch. */
export function checkPartitionTotals (acc: RequestRecords): void {
  const { topic, limit } = acc
  for (const [partition, total] of acc.perPartition) {
    if (total > limit) {
      throw new AppError(413, 'GW_PAYLOAD_TOO_LARGE',
        `the request's records for partition ${partition} take up to ${total} bytes, more than topic "${topic}" accepts in one batch (max.message.bytes ${limit}); split the request`,
        { details: [{ field: 'body/messages', rule: 'maxMessageBytes', message: `at most ${limit} bytes per partition per request`, maxMessageBytes: limit }] })
    }
  }
}

/** Where each record landed, in record order. */
export function resultsOf (acc: RequestRecords, offsets: Array<string | undefined>): RecordResult[] {
  return acc.records.map((r, i) => {
    const res: RecordResult = { index: acc.indexes[i] as number, topic: r.topic, partition: r.partition }
    const offset = offsets[i]
    if (offset !== undefined) res.offset = offset
    return res
  })
}

/** Key + value bytes of the request's records. */
export function payloadBytesOf (acc: RequestRecords): number {
  let bytes = 0
  for (const r of acc.records) bytes += r.payloadBytes
  return bytes
}
