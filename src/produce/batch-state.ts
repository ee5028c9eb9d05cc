/** The batcher's dependencies, its public shapes, and its state: ONE object that every batching step is handed. */
import type { Producer } from 'kafkajs'
import type { AppError } from '../errors.js'
import type { ProduceObserver, SendOptions } from './types.js'

/** A record with its partition decided (see targets.ts), ready for Kafka. */
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
  getProducer: (acks: number) => Promise<Producer>
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

/** One send() waiting for its batch: its records are `count` records from `start` in the batch. */
export interface Waiter {
  start: number
  count: number
  resolve: (offsets: Array<string | undefined>) => void
  reject: (err: AppError) => void
}

/** A batch gathering records of one topic and one set of send options. */
export interface Gathering {
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

export interface BatcherState {
  readonly deps: BatcherDeps
  /** Batches gathering, by topic and send options (see gatheringKey). */
  readonly gathering: Map<string, Gathering>
  /** Batches handed to Kafka and not yet answered. */
  readonly inFlight: Set<Promise<void>>
  /** Counters since start (stats() adds what is gathering and in flight). */
  readonly totals: Omit<BatcherStats, 'gathering' | 'inFlight'>
  /** close() was called: new records are refused. */
  closed: boolean
}

export function createBatcherState (deps: BatcherDeps): BatcherState {
  return {
    deps,
    gathering: new Map(),
    inFlight: new Set(),
    totals: { batches: 0, failedBatches: 0, records: 0, bytes: 0, largestBatch: 0, perTopic: {} },
    closed: false
  }
}

/** The key of a topic-partition in per-partition maps. */
export const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`
