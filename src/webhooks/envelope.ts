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
import type { KafkaMessage } from 'kafkajs'
import { KEY_ENCODING_BINARY } from '../kafka/record-format.js'
import { scanHeaders } from './envelope-headers.js'
import { decodeValue, valueJson, type DecodedValue, type ValueEncoding } from './envelope-value.js'
import type { ConsumedRecord } from './types.js'

export { headerText } from './envelope-headers.js'
export type { ValueEncoding } from './envelope-value.js'
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

function bytes (buf: Buffer, forceBase64 = false): { text: string, encoding: BytesEncoding } {
  if (!forceBase64 && isUtf8(buf)) return { text: buf.toString('utf8'), encoding: 'utf8' }
  return { text: buf.toString('base64'), encoding: 'base64' }
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

/** One envelope's JSON text: `head`, the value's JSON (text, or the record's own bytes), `tail`. */
export interface EnvelopeParts { head: string, value: DecodedValue, tail: string }

/**
 * The envelope written straight as JSON text (no object to serialize), with a JSON value copied in
 * verbatim (so that numbers beyond double precision and the producer's formatting of the value
 * survive). Field order is the interface's.
 */
export function envelopeParts (record: ConsumedRecord): EnvelopeParts {
  const h = scanHeaders(record.headers)
  const v = decodeValue(record.value, h.contentType)
  const key = record.key === null ? undefined : bytes(record.key, h.keyEncoding?.toLowerCase() === KEY_ENCODING_BINARY)
  const keyPart = key === undefined ? 'null' : `${JSON.stringify(key.text)},"keyEncoding":"${key.encoding}"`
  const head = `{"topic":${JSON.stringify(record.topic)},"partition":${record.partition},"offset":${JSON.stringify(record.offset)},` +
    `"timestamp":${JSON.stringify(record.timestamp)},"key":${keyPart},"value":`
  const tail = `,"valueEncoding":${v.valueEncoding === null ? 'null' : `"${v.valueEncoding}"`}` +
    (h.contentType !== undefined ? `,"contentType":${JSON.stringify(h.contentType)}` : '') +
    (v.valueError !== undefined ? `,"valueError":${JSON.stringify(v.valueError)}` : '') +
    `,"headers":{${h.members}}` + (h.encodings !== '' ? `,"headerEncodings":{${h.encodings}}` : '') + '}'
  return { head, value: v, tail }
}

/** The exact request body as text (envelope-bytes.ts writes the same as bytes). */
export function envelopeBody (record: ConsumedRecord): string {
  const e = envelopeParts(record)
  return e.head + valueJson(e.value) + e.tail
}

/** The envelope as an object: the body parsed (so a JSON value's big numbers lose precision here, not in the body). */
export function toEnvelope (record: ConsumedRecord): WebhookEnvelope {
  return JSON.parse(envelopeBody(record)) as WebhookEnvelope
}
