/**
 * An envelope's `headers` (and `headerEncodings`) as JSON members, and the two headers the envelope reads
 * itself: content-type and key-encoding (first value, case-insensitive).
 */
import { isUtf8 } from 'node:buffer'
import type { IHeaders } from 'kafkajs'
import { CONTENT_TYPE_HEADER, KEY_ENCODING_HEADER } from '../kafka/record-format.js'

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

/** The headers' JSON members, and the two headers the envelope reads (first value, case-insensitive). */
export interface ScannedHeaders { members: string, encodings: string, contentType: string | undefined, keyEncoding: string | undefined }

/** One header as the envelope writes it: `"name":<value JSON>`, and what scanHeaders reads of it. */
interface ScannedHeader { key: string, member: string, utf8: boolean, lower: string, text: string | undefined }

/**
 * The last value seen of each header name, scanned: records of a topic mostly repeat their headers
 * (content-type, source names), and comparing bytes costs a tenth of scanning them again. Values up to
 * CACHED_VALUE_BYTES, copied (kafkajs' are slices of a whole fetch); at most CACHED_NAMES names.
 */
const lastSeen = new Map<string, { raw: Buffer, scanned: ScannedHeader }>()
const CACHED_NAMES = 256
const CACHED_VALUE_BYTES = 256

function scanned (name: string, raw: NonNullable<IHeaders[string]>): ScannedHeader {
  const key = JSON.stringify(name)
  const lower = name.toLowerCase()
  if (!Array.isArray(raw) && typeof raw !== 'string') {
    // kafkajs hands every header value as one Buffer: the path taken per record
    const utf8 = isUtf8(raw)
    const text = raw.toString('utf8')
    return { key, member: `${key}:${JSON.stringify(utf8 ? text : raw.toString('base64'))}`, utf8, lower, text }
  }
  const list = (Array.isArray(raw) ? raw : [raw]).map(v => typeof v === 'string' ? Buffer.from(v, 'utf8') : v)
  const utf8 = list.every(b => isUtf8(b))
  const texts = list.map(b => b.toString(utf8 ? 'utf8' : 'base64'))
  return { key, member: `${key}:${JSON.stringify(Array.isArray(raw) ? texts : (texts[0] ?? ''))}`, utf8, lower, text: firstText(raw) }
}

function scannedOnce (name: string, raw: NonNullable<IHeaders[string]>): ScannedHeader {
  if (!Buffer.isBuffer(raw)) return scanned(name, raw)
  const last = lastSeen.get(name)
  if (last !== undefined && last.raw.equals(raw)) return last.scanned
  const s = scanned(name, raw)
  if (raw.length <= CACHED_VALUE_BYTES) {
    if (last === undefined && lastSeen.size >= CACHED_NAMES) lastSeen.clear()
    lastSeen.set(name, { raw: Buffer.from(raw), scanned: s })
  }
  return s
}

export function scanHeaders (headers: IHeaders): ScannedHeaders {
  const out: ScannedHeaders = { members: '', encodings: '', contentType: undefined, keyEncoding: undefined }
  let seenType = false
  let seenKeyEncoding = false
  for (const name in headers) {
    const raw = headers[name]
    if (raw === undefined) continue
    const h = scannedOnce(name, raw)
    if (!seenType && h.lower === CONTENT_TYPE_HEADER) { seenType = true; out.contentType = h.text }
    if (!seenKeyEncoding && h.lower === KEY_ENCODING_HEADER) { seenKeyEncoding = true; out.keyEncoding = h.text }
    out.members += out.members === '' ? h.member : `,${h.member}`
    if (!h.utf8) out.encodings += `${out.encodings === '' ? '' : ','}${h.key}:"base64"`
  }
  return out
}
