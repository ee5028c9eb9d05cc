/** What a pull consumer instance is: its settings and the record every gateway instance reads from Redis. */

export type OffsetReset = 'earliest' | 'latest'
/** How records are answered when the Accept header does not say: the webhook envelope, or Confluent's json / binary shapes. */
export type RecordFormat = 'envelope' | 'json' | 'binary'

/** Kafka consumer tuning (the same fields as a webhook group's `consumer`). */
export interface PullTuning {
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
  rebalanceTimeoutMs: number
  maxWaitTimeMs: number
}

export interface PullSettings {
  autoOffsetReset: OffsetReset
  /** Most records one GET …/records answers. */
  maxPollRecords: number
  /** A poll stops adding records once keys and values add up to this (after at least one record). */
  maxPollBytes: number
  /** Idle this long (no request) → closed everywhere and removed. */
  instanceTimeoutMs: number
  /** The longest a GET …/records waits for a first record when the request names no timeout. */
  requestTimeoutMs: number
  format: RecordFormat
  consumer: PullTuning
}

export interface TopicPartitionRef { topic: string, partition: number }

/** What the instance reads: a subscription (group-managed) or an explicit assignment; none before either is set. */
export type PullSource =
  | { kind: 'none' }
  | { kind: 'subscription', topics: string[] }
  | { kind: 'assignment', partitions: TopicPartitionRef[] }

/** The instance as stored in Redis (`<key>:pull`, field `<groupId>/<instanceId>`). */
export interface PullInstanceRecord {
  groupId: string
  instanceId: string
  /** clientId of the gateway instance holding the kafkajs consumer. */
  owner: string
  /** That instance's advertised base URL: requests reaching another instance are forwarded there. */
  ownerUrl: string
  settings: PullSettings
  source: PullSource
  createdAt: string
}

export const PULL_DEFAULTS = Object.freeze({
  autoOffsetReset: 'latest' as OffsetReset,
  maxPollRecords: 500,
  maxPollBytes: 8 * 1024 * 1024,
  instanceTimeoutMs: 300_000,
  requestTimeoutMs: 1000
})
