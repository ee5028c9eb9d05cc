import type { CompressionName } from '../kafka/codecs.js'

/** How a request's `value` is turned into record bytes. Absent: JSON for objects/arrays/numbers/booleans, text for strings. */
export type ValueEncoding = 'json' | 'text' | 'base64'
/** How a request's `key` is turned into record bytes. Absent or `text`: UTF-8; `base64`: the decoded bytes. */
export type KeyEncoding = 'text' | 'base64'
export type Acks = -1 | 0 | 1

/** One message as POST /messages takes it (the single form's top level, or one item of `messages`). */
export interface MessageInput {
  /** Any JSON value; `null` is a tombstone. Absent only in the batch form's top level. */
  value?: unknown
  valueEncoding?: ValueEncoding
  key?: string | null
  keyEncoding?: KeyEncoding
  headers?: Record<string, string>
  partitions?: number[]
  arrival?: string
}

export interface ProduceOptionsInput {
  acks?: Acks
  timeout?: number
  compression?: CompressionName
}

/** The body of POST /messages: one message (`value` at the top level) or a batch (`messages`). */
export interface ProduceRequestInput extends MessageInput {
  topic: string
  messages?: MessageInput[]
  options?: ProduceOptionsInput
}

export interface SendOptions {
  acks: Acks
  timeout: number
  compression: CompressionName
}

/** What a produce knows of its HTTP request. */
export interface ProduceContext {
  /** The HTTP request id: written to every record as `x-request-id`. */
  requestId: string
  idempotencyKey?: string
}

/** Where one record landed; `offset` is absent when acks = 0 (the broker does not answer). */
export interface RecordResult {
  /** Index of the message in the request (0 for the single form). */
  index: number
  topic: string
  partition: number
  offset?: string
}

export interface ProduceWarning {
  code: 'ARRIVAL_IGNORED'
  field: string
  message: string
}

export interface ProduceResponse {
  results: RecordResult[]
  warnings?: ProduceWarning[]
}

/** The HTTP answer of a produce: 200 with offsets, or 202 when acks = 0. */
export interface ProduceOutcome {
  status: 200 | 202
  body: ProduceResponse
  /** True when the answer is the stored first answer to this Idempotency-Key. */
  replayed: boolean
}

/** Counters the metrics issue can hook into (or read through `stats()`). */
export type ProduceEvent =
  | {
    kind: 'batch'
    /** Records in the Kafka request, over every topic. */
    records: number
    /** Key + value bytes (also per topic in `perTopic`). */
    bytes: number
    /** HTTP requests coalesced into it. */
    requests: number
    perTopic: Record<string, { records: number, bytes: number }>
    compression: CompressionName
    acks: Acks
    durationMs: number
    /** The error code when the batch failed. */
    error?: string
  }
  | {
    kind: 'request'
    topic: string
    records: number
    /** Key + value bytes of the request's records. */
    bytes: number
    status: number
    /** From accepting the request to Kafka's acknowledgement. */
    durationMs: number
  }

export type ProduceObserver = (event: ProduceEvent) => void
