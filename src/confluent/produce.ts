/**
 * Confluent REST Proxy v2 produce (`POST /topics/{topic}[/partitions/{p}]`) translated to and from the
 * produce service's own request (src/produce/): the same planning, batching, acks (-1) and idempotent
 * producer as POST /messages. Embedded formats: `json` (key and value written as JSON text) and `binary`
 * (base64 key and value written as their bytes; `application/vnd.kafka.v2+json` means binary, as in v2).
 */
import { AppError, fieldError, type ErrorDetail } from '../errors.js'
import type { MessageInput, ProduceRequestInput, ProduceResponse } from '../produce/types.js'

export type EmbeddedFormat = 'json' | 'binary'

/** The response content type of every Confluent v2 answer. */
export const CONFLUENT_V2 = 'application/vnd.kafka.v2+json'

/** The request content types, each with its embedded format; v1's (what Confluent's node client kafka-rest speaks) have the same body. */
export const CONFLUENT_REQUEST_TYPE = /^application\/vnd\.kafka\.(?:(json|binary)\.)?v[12]\+json\s*(?:;.*)?$/i

export function embeddedFormat (contentType: string | undefined): EmbeddedFormat {
  const m = CONFLUENT_REQUEST_TYPE.exec(contentType ?? '')
  return m?.[1]?.toLowerCase() === 'json' ? 'json' : 'binary'
}

export interface ConfluentRecord { key?: unknown, value?: unknown, partition?: number | null }
export interface ConfluentProduceBody { records: ConfluentRecord[] }

function message (record: ConfluentRecord, i: number, format: EmbeddedFormat, partition: number | undefined): MessageInput {
  const at = `body/records/${i}`
  const target = partition ?? record.partition ?? undefined
  const out: MessageInput = target === undefined || target === null ? {} : { partitions: [target] }
  const key = record.key ?? null
  const value = record.value ?? null
  if (format === 'json') {
    // the json format writes the key as JSON text too: "k" is the 3 bytes "k" with quotes, as Confluent writes it
    if (key !== null) Object.assign(out, { key: JSON.stringify(key), keyEncoding: 'text' })
    return Object.assign(out, value === null ? { value: null } : { value, valueEncoding: 'json' })
  }
  if (key !== null) {
    if (typeof key !== 'string') throw fieldError(`${at}/key`, 'base64', 'must be a base64 string (binary format)')
    Object.assign(out, { key, keyEncoding: 'base64' })
  }
  if (value !== null && typeof value !== 'string') throw fieldError(`${at}/value`, 'base64', 'must be a base64 string (binary format)')
  return Object.assign(out, value === null ? { value: null } : { value, valueEncoding: 'base64' })
}

/** The produce service's request for a Confluent body (`partition`: the path's, for /partitions/{p}). */
export function toProduceRequest (topic: string, body: ConfluentProduceBody, format: EmbeddedFormat, partition?: number): ProduceRequestInput {
  return { topic, messages: body.records.map((r, i) => message(r, i, format, partition)) }
}

export interface ConfluentProduceResponse {
  key_schema_id: null
  value_schema_id: null
  offsets: Array<{ partition: number, offset: number, error_code: null, error: null }>
}

/** Confluent's answer: one offset per record, in request order (each record has one partition here). */
export function toConfluentResponse (body: ProduceResponse): ConfluentProduceResponse {
  return {
    key_schema_id: null,
    value_schema_id: null,
    offsets: body.results.map(r => ({ partition: r.partition, offset: Number(r.offset ?? -1), error_code: null, error: null }))
  }
}

/** The produce service names its own fields (`body/messages/3/value`); a Confluent client sent `body/records/3/value`. */
function confluentField (field: string, partitionInPath: boolean): string {
  if (field === 'body/topic') return 'params/topic'
  const renamed = field.replace(/^body\/messages/, 'body/records')
  // the service's `partitions` is the record's `partition`, or the path's on /partitions/{p}
  if (!/\/partitions(\/\d+)?$/.test(renamed)) return renamed
  return partitionInPath ? 'params/partition' : renamed.replace(/\/partitions(\/\d+)?$/, '/partition')
}

export interface ConfluentError { status: number, body: { error_code: number, message: string } }

/**
 * Confluent's error shape `{ error_code, message }`: its codes for a missing topic (40401) and partition
 * (40402, a 404 there), else the HTTP status as the code (as Confluent does for generic errors). The
 * message names the field and the rule.
 */
export function toConfluentError (err: AppError, partitionInPath: boolean): ConfluentError {
  const details: ErrorDetail[] = (err.details ?? []).map(d => d.field === undefined ? d : { ...d, field: confluentField(d.field, partitionInPath) })
  // every problem in the one message: Confluent's shape has no list of them
  const fielded = details.filter(d => d.field !== undefined)
  const named = fielded.length > 0 ? fielded.map(d => `${d.field ?? ''}: ${d.message}${d.rule !== undefined ? ` (rule: ${d.rule})` : ''}`).join('; ') : err.message
  const message = err.statusCode >= 500 && err.code === 'GW_INTERNAL' ? 'internal error' : named
  if (err.code === 'GW_TOPIC_NOT_FOUND') return { status: 404, body: { error_code: 40401, message } }
  if (err.code === 'GW_PARTITION_OUT_OF_RANGE') return { status: 404, body: { error_code: 40402, message } }
  return { status: err.statusCode, body: { error_code: err.statusCode, message } }
}

export const unsupportedMediaType = (contentType: string | undefined): AppError =>
  new AppError(415, 'GW_UNSUPPORTED_MEDIA_TYPE', 'header/content-type: Confluent produce takes application/vnd.kafka.json.v2+json, application/vnd.kafka.binary.v2+json or application/vnd.kafka.v2+json (or their v1 forms)',
    { details: [{ field: 'header/content-type', rule: 'mediaType', message: `"${contentType ?? ''}" is not a Confluent v2 embedded format` }] })
