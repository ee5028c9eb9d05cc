/**
 * Request values, keys and headers → record bytes and headers. The record's `content-type` header says
 * how its value was written, so consumers (and webhook delivery) decode it without guessing:
 *
 * | request                                        | record value               | content-type                |
 * |------------------------------------------------|----------------------------|-----------------------------|
 * | object, array, number, boolean                 | `JSON.stringify(value)`    | application/json            |
 * | string                                         | the string in UTF-8        | text/plain; charset=utf-8   |
 * | `valueEncoding: "json"`, any value             | `JSON.stringify(value)`    | application/json            |
 * | `valueEncoding: "text"`, a string              | the string in UTF-8        | text/plain; charset=utf-8   |
 * | `valueEncoding: "base64"`, a base64 string     | the decoded bytes, exactly | application/octet-stream    |
 * | `null` (any encoding)                          | no value (tombstone)       | none                        |
 *
 * Keys are UTF-8 text, or the decoded bytes with `keyEncoding: "base64"` (the record then carries
 * `key-encoding: binary`).
 */
import { fieldError } from '../errors.js'
import { CONTENT_TYPES, RESERVED_HEADERS } from '../kafka/record-format.js'
import type { MessageInput } from './types.js'

/** Written on records whose key was given as base64 bytes; absent means the key is UTF-8 text. */
export { KEY_ENCODING_BINARY, KEY_ENCODING_HEADER } from '../kafka/record-format.js'

export { HEADER_OVERHEAD_BYTES, RECORD_OVERHEAD_BYTES, headerBytes } from '../kafka/record-format.js'

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const BASE64URL = /^[A-Za-z0-9_-]*$/
const RESERVED = new Set<string>(RESERVED_HEADERS)
const MAX_HEADER_NAME = 255

export interface EncodedValue {
  value: Buffer | null
  contentType: string | undefined
}

/** Strict base64 (standard alphabet with padding, or URL-safe without): anything else is a 400, never a silent partial decode. */
export function decodeBase64 (text: string, field: string): Buffer {
  const ok = BASE64.test(text) || (BASE64URL.test(text) && text.length % 4 !== 1)
  if (!ok) throw fieldError(field, 'base64', 'is not valid base64')
  return Buffer.from(text, 'base64')
}

function json (value: unknown, field: string): Buffer {
  const text = JSON.stringify(value)
  // unreachable for parsed JSON bodies; guards direct callers passing undefined or functions
  if (typeof text !== 'string') throw fieldError(field, 'type', 'must be a JSON value')
  return Buffer.from(text, 'utf8')
}

/** `prefix` is the message's path, e.g. `body` or `body/messages/3`. */
export function encodeValue (message: MessageInput, prefix: string): EncodedValue {
  const field = `${prefix}/value`
  if (!Object.hasOwn(message, 'value') || message.value === undefined) throw fieldError(field, 'required', 'is required (null for a tombstone)')
  const { value, valueEncoding } = message
  if (value === null) return { value: null, contentType: undefined }
  switch (valueEncoding) {
    case 'base64':
      if (typeof value !== 'string') throw fieldError(field, 'type', 'must be a base64 string when valueEncoding is "base64"')
      return { value: decodeBase64(value, field), contentType: CONTENT_TYPES.binary }
    case 'text':
      if (typeof value !== 'string') throw fieldError(field, 'type', 'must be a string when valueEncoding is "text"')
      return { value: Buffer.from(value, 'utf8'), contentType: CONTENT_TYPES.text }
    case 'json':
      return { value: json(value, field), contentType: CONTENT_TYPES.json }
    case undefined:
      return typeof value === 'string'
        ? { value: Buffer.from(value, 'utf8'), contentType: CONTENT_TYPES.text }
        : { value: json(value, field), contentType: CONTENT_TYPES.json }
    default:
      throw fieldError(`${prefix}/valueEncoding`, 'enum', 'must be one of "json", "text", "base64"')
  }
}

export function encodeKey (message: MessageInput, prefix: string): { key: Buffer | null, binary: boolean } {
  const { key, keyEncoding } = message
  if (key === undefined || key === null) return { key: null, binary: false }
  const field = `${prefix}/key`
  if (typeof key !== 'string') throw fieldError(field, 'type', 'must be a string')
  switch (keyEncoding) {
    case 'base64': return { key: decodeBase64(key, field), binary: true }
    case 'text':
    case undefined: return { key: Buffer.from(key, 'utf8'), binary: false }
    default: throw fieldError(`${prefix}/keyEncoding`, 'enum', 'must be one of "text", "base64"')
  }
}

/** Checks user headers: string → string, no reserved names (case-insensitive), sane names. */
export function userHeaders (message: MessageInput, prefix: string): Record<string, string> {
  const headers = message.headers
  if (headers === undefined) return {}
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    throw fieldError(`${prefix}/headers`, 'type', 'must be an object of string values')
  }
  for (const [name, value] of Object.entries(headers)) {
    const field = `${prefix}/headers/${name}`
    if (name.length === 0 || name.length > MAX_HEADER_NAME) throw fieldError(field, 'headerName', `header names must be 1-${MAX_HEADER_NAME} characters`)
    if (RESERVED.has(name.toLowerCase())) {
      throw fieldError(field, 'reservedHeader', `header "${name}" is reserved for the gateway (reserved: ${RESERVED_HEADERS.join(', ')})`)
    }
    if (typeof value !== 'string') throw fieldError(field, 'type', 'header values must be strings')
  }
  return headers
}
