/**
 * The JSON envelope a webhook receives for one Kafka record.
 *
 * Values are decoded without loss and without guessing, from the record's own `content-type` header
 * (written by POST /messages, see src/kafka/record-format.ts):
 * - `application/json` (or any `+json` type): the JSON value itself, `valueEncoding: "json"`. The value's
 *   text is copied verbatim into the body (numbers keep every digit). If the bytes are not valid JSON the
 *   value falls back to base64 (`valueEncoding: "base64"`) and `valueError` says why.
 * - `text/*` with no charset or charset utf-8/us-ascii: a string, `valueEncoding: "utf8"` (base64 if the
 *   bytes are not valid UTF-8, or for another charset).
 * - `application/octet-stream`: always base64 (the producer said these are bytes).
 * - any other type, or no content-type (records written by other producers): valid UTF-8 is delivered as
 *   a string (`"utf8"`), anything else as base64 (`"base64"`). Text is never parsed: `123` stays "123".
 * - a tombstone (null value): `value: null`, `valueEncoding: null`.
 * Keys: null, or a string with `keyEncoding` "utf8" (valid UTF-8) or "base64" (otherwise, or when the
 * record's `key-encoding` header says binary). Headers: values are UTF-8 strings; a header with any value
 * that is not valid UTF-8 carries base64 strings instead and is named in `headerEncodings` (`{ name: "base64" }`).
 * Repeated headers stay arrays.
 */
import { isUtf8 } from 'node:buffer'
import type { IHeaders, KafkaMessage } from 'kafkajs'
import { CONTENT_TYPE_HEADER, KEY_ENCODING_BINARY, KEY_ENCODING_HEADER } from '../kafka/record-format.js'
import type { ConsumedRecord } from './types.js'

export type ValueEncoding = 'json' | 'utf8' | 'base64'
export type BytesEncoding = 'utf8' | 'base64'

export interface WebhookEnvelope {
  topic: string
  partition: number
  /** Kafka offset, a decimal string (64-bit). */
  offset: string
  /** Record timestamp, milliseconds since the epoch, as a decimal string (as Kafka reports it). */
  timestamp: string
  key: string | null
  /** Present when `key` is not null. */
  keyEncoding?: BytesEncoding
  /** A JSON value ("json"), a string ("utf8" or "base64"), or null for a tombstone. */
  value: unknown
  valueEncoding: ValueEncoding | null
  /** The record's content-type header, when it had one. */
  contentType?: string
  /** Why a value declared as JSON was delivered as base64. */
  valueError?: string
  headers: Record<string, string | string[]>
  /** Headers whose values are base64 (because some value was not valid UTF-8). */
  headerEncodings?: Record<string, 'base64'>
}

/** The first value of header `name` (case-insensitive), as a UTF-8 string. */
export function headerText (headers: IHeaders | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined
  const lower = name.toLowerCase()
  for (const k in headers) {
    const v = headers[k]
    if (v === undefined || k.toLowerCase() !== lower) continue
    return firstText(v)
  }
  return undefined
}

function firstText (v: NonNullable<IHeaders[string]>): string | undefined {
  const first = Array.isArray(v) ? v[0] : v
  if (first === undefined) return undefined
  return typeof first === 'string' ? first : first.toString('utf8')
}

function bytes (buf: Buffer, forceBase64 = false): { text: string, encoding: BytesEncoding } {
  if (!forceBase64 && isUtf8(buf)) return { text: buf.toString('utf8'), encoding: 'utf8' }
  return { text: buf.toString('base64'), encoding: 'base64' }
}

/** A decoded value: its JSON text in the body, and its valueEncoding. */
interface DecodedValue {
  json: string
  valueEncoding: ValueEncoding | null
  valueError?: string
}

/** Parsed content-type headers: records of a topic nearly always carry one of a few. */
const mediaTypes = new Map<string, { type: string, charset: string | undefined }>()
const MEDIA_TYPE_CACHE = 256

function mediaType (contentType: string): { type: string, charset: string | undefined } {
  let m = mediaTypes.get(contentType)
  if (m === undefined) {
    m = parseMediaType(contentType)
    if (mediaTypes.size >= MEDIA_TYPE_CACHE) mediaTypes.clear()
    mediaTypes.set(contentType, m)
  }
  return m
}

function parseMediaType (contentType: string): { type: string, charset: string | undefined } {
  const [type = '', ...params] = contentType.split(';')
  let charset: string | undefined
  for (const p of params) {
    const eq = p.indexOf('=')
    if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === 'charset') charset = p.slice(eq + 1).trim().replace(/^"|"$/g, '').toLowerCase()
  }
  return { type: type.trim().toLowerCase(), charset }
}

const base64Value = (value: Buffer, valueError?: string): DecodedValue =>
  valueError === undefined ? { json: `"${value.toString('base64')}"`, valueEncoding: 'base64' } : { json: `"${value.toString('base64')}"`, valueEncoding: 'base64', valueError }

function textOrBase64 (value: Buffer): DecodedValue {
  return isUtf8(value) ? { json: JSON.stringify(value.toString('utf8')), valueEncoding: 'utf8' } : base64Value(value)
}

function decodeValue (value: Buffer | null, contentType: string | undefined): DecodedValue {
  if (value === null) return { json: 'null', valueEncoding: null }
  if (contentType === undefined) return textOrBase64(value)
  const { type, charset } = mediaType(contentType)
  if (type === 'application/json' || type.endsWith('+json')) {
    if (!isUtf8(value)) return base64Value(value, 'declared as JSON but not valid UTF-8')
    const text = value.toString('utf8')
    try {
      JSON.parse(text) // only checked: the text goes into the body verbatim
      return { json: text.trim(), valueEncoding: 'json' }
    } catch {
      return base64Value(value, 'declared as JSON but not valid JSON')
    }
  }
  if (type === 'application/octet-stream') return base64Value(value)
  if (type.startsWith('text/') && charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
    return base64Value(value)
  }
  return textOrBase64(value)
}

/** The headers' JSON members, and the two headers the envelope reads (first value, case-insensitive). */
interface ScannedHeaders { members: string, encodings: string, contentType: string | undefined, keyEncoding: string | undefined }

function scanHeaders (headers: IHeaders): ScannedHeaders {
  const out: ScannedHeaders = { members: '', encodings: '', contentType: undefined, keyEncoding: undefined }
  let seenType = false
  let seenKeyEncoding = false
  for (const name in headers) {
    const raw = headers[name]
    if (raw === undefined) continue
    const lower = name.toLowerCase()
    if (!seenType && lower === CONTENT_TYPE_HEADER) { seenType = true; out.contentType = firstText(raw) }
    if (!seenKeyEncoding && lower === KEY_ENCODING_HEADER) { seenKeyEncoding = true; out.keyEncoding = firstText(raw) }
    let json: string
    let utf8: boolean
    if (!Array.isArray(raw) && typeof raw !== 'string') {
      // kafkajs hands every header value as one Buffer: the path taken per record
      utf8 = isUtf8(raw)
      json = JSON.stringify(raw.toString(utf8 ? 'utf8' : 'base64'))
    } else {
      const list = (Array.isArray(raw) ? raw : [raw]).map(v => typeof v === 'string' ? Buffer.from(v, 'utf8') : v)
      utf8 = list.every(b => isUtf8(b))
      const texts = list.map(b => b.toString(utf8 ? 'utf8' : 'base64'))
      json = JSON.stringify(Array.isArray(raw) ? texts : (texts[0] ?? ''))
    }
    const key = JSON.stringify(name)
    out.members += `${out.members === '' ? '' : ','}${key}:${json}`
    if (!utf8) out.encodings += `${out.encodings === '' ? '' : ','}${key}:"base64"`
  }
  return out
}

/** A kafkajs message as delivery and the topic reader hand it on. */
export function toConsumedRecord (topic: string, partition: number, message: KafkaMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    timestamp: message.timestamp,
    key: message.key ?? null,
    value: message.value ?? null,
    headers: message.headers ?? {}
  }
}

/**
 * The exact request body: the envelope written straight as JSON text (no object to serialize), with a
 * JSON value copied in verbatim (so that numbers beyond double precision and the producer's formatting
 * of the value survive). Field order is the interface's.
 */
export function envelopeBody (record: ConsumedRecord): string {
  const h = scanHeaders(record.headers)
  const v = decodeValue(record.value, h.contentType)
  const key = record.key === null ? undefined : bytes(record.key, h.keyEncoding?.toLowerCase() === KEY_ENCODING_BINARY)
  const keyPart = key === undefined ? 'null' : `${JSON.stringify(key.text)},"keyEncoding":"${key.encoding}"`
  return `{"topic":${JSON.stringify(record.topic)},"partition":${record.partition},"offset":${JSON.stringify(record.offset)},` +
    `"timestamp":${JSON.stringify(record.timestamp)},"key":${keyPart},"value":${v.json},` +
    `"valueEncoding":${v.valueEncoding === null ? 'null' : `"${v.valueEncoding}"`}` +
    (h.contentType !== undefined ? `,"contentType":${JSON.stringify(h.contentType)}` : '') +
    (v.valueError !== undefined ? `,"valueError":${JSON.stringify(v.valueError)}` : '') +
    `,"headers":{${h.members}}` + (h.encodings !== '' ? `,"headerEncodings":{${h.encodings}}` : '') + '}'
}

/** The envelope as an object: the body parsed (so a JSON value's big numbers lose precision here, not in the body). */
export function toEnvelope (record: ConsumedRecord): WebhookEnvelope {
  return JSON.parse(envelopeBody(record)) as WebhookEnvelope
}

/**
 * The body of a batch request (webhook `batchSize` > 1): `{"records":[<envelope>, ...]}`, each as envelopeBody
 * writes it; `extra` fields follow `records` (the topic reader adds `nextOffset`).
 */
export function batchBody (records: readonly ConsumedRecord[], extra: Record<string, string> = {}): string {
  let body = '{"records":['
  for (let i = 0; i < records.length; i++) body += (i === 0 ? '' : ',') + envelopeBody(records[i] as ConsumedRecord)
  body += ']'
  for (const k in extra) body += `,${JSON.stringify(k)}:${JSON.stringify(extra[k])}`
  return body + '}'
}
