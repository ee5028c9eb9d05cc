import type { IHeaders } from 'kafkajs'

/** A webhook as stored in a consumer-group definition. Secrets and header values are never returned by GETs. */
export interface WebhookConfig {
  url: string
  /** Extra request headers (e.g. Authorization); values are secret. */
  headers?: Record<string, string>
  /** Standard Webhooks secrets (`whsec_<base64>`); several sign at once, for rotation. */
  secrets?: string[]
  /** Per-attempt timeout; default WEBHOOK_TIMEOUT_MS (10 s). */
  timeoutMs?: number
  /** Attempts per message before dead-lettering; default 10. */
  maxAttempts?: number
  /** Total time per message before dead-lettering; default 1 h. */
  maxRetryDurationMs?: number
  /** Statuses dead-lettered at once; default 400, 401, 403, 404, 410, 422. */
  nonRetryableStatuses?: number[]
  /** Dead-letter topic; default `<groupId>.dlq`; `false` turns dead-lettering off (failures then block the partition). */
  deadLetterTopic?: string | false
  /**
   * Records per request; absent or 1: one record per request, the envelope as the body. Above 1: the
   * body is `{ records: [...] }` with up to this many consecutive records of one partition.
   */
  batchSize?: number
  /** With batchSize above 1: how long (ms) a partial batch may wait for more records of its partition; absent or 0: no wait. */
  maxBatchWaitMs?: number
}

/** A consumed record as the consumer runtime hands it to delivery. */
export interface ConsumedRecord {
  topic: string
  partition: number
  offset: string
  timestamp: string
  key: Buffer | null
  value: Buffer | null
  headers: IHeaders
}

export interface DeliveryContext {
  groupId: string
  webhook: WebhookConfig
  /** Aborted on rebalance or shutdown: stop retrying, do not commit. */
  signal: AbortSignal
  /** Keeps the consumer's group membership while delivery waits (kafkajs eachBatch heartbeat). */
  heartbeat: () => Promise<void>
  /** When the record was fetched (performance.now()), for fetch-to-2xx latency. */
  fetchedAt: number
}

export type DeliveryOutcome =
  | { outcome: 'delivered', attempts: number, status: number }
  | { outcome: 'dead-lettered', attempts: number, status: number | undefined, error: string }
  /**
   * Stopped by the signal (or because a heartbeat said the group membership is lost, or the deliverer
   * closed): the offset must not be committed.
   */
  | { outcome: 'aborted', attempts: number, reason?: string }

/** Reported after every HTTP attempt and every final outcome; feeds status counters and metrics. */
export interface DeliveryEvent {
  groupId: string
  topic: string
  partition: number
  kind: 'attempt' | 'delivered' | 'retry-scheduled' | 'dead-lettered' | 'aborted'
  /** The record's offset (a batch's first). */
  offset?: string
  /** How many records the event covers (a batch request's); absent: 1. */
  records?: number
  /** 'attempt': the attempt's number (1-based); final outcomes: attempts made. */
  attempt?: number
  status?: number
  error?: string
  /**
   * 'attempt': the HTTP attempt's duration; 'delivered': fetch-to-2xx latency (from ctx.fetchedAt);
   * 'dead-lettered': fetch to the dead letter written.
   */
  durationMs?: number
  /** 'retry-scheduled': the wait before the next attempt. */
  delayMs?: number
}

export interface Deliverer {
  deliver (record: ConsumedRecord, ctx: DeliveryContext): Promise<DeliveryOutcome>
  /**
   * Delivers consecutive records of one partition in one request (`{ records: [...] }`); retries,
   * dead-lettering (every record of the batch) and the outcome apply to the batch as a whole.
   */
  deliverBatch (records: readonly ConsumedRecord[], ctx: DeliveryContext): Promise<DeliveryOutcome>
  close (): Promise<void>
}
