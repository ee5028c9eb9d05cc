/**
 * An envelope's `value`, decoded from the record's bytes and its content-type (the rules are in
 * envelope.ts). Where the JSON for the value is the record's bytes themselves — a JSON value copied
 * verbatim, or UTF-8 text that needs no escaping inside quotes — the bytes are kept as they are: the body
 * writer copies them (envelope-bytes.ts), so a 1 KiB value costs no string, no JSON.stringify and no
 * second UTF-8 encoding (together with their garbage, about a third of a batch's CPU in --cpu-prof).
 */
import { isUtf8 } from 'node:buffer'

export type ValueEncoding = 'json' | 'utf8' | 'base64'

/** A decoded value: its JSON as text, or as the record's own bytes (`raw`, in quotes when `quoted`). */
export interface DecodedValue {
  /** The value's JSON text; '' when `raw` holds it. */
  json: string
  raw?: Buffer
  /** `raw` is a JSON string's content (valid UTF-8 with nothing to escape): it goes between quotes. */
  quoted?: boolean
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

const needsEscapeByte = (c: number): boolean => c < 0x20 || c === 0x22 || c === 0x5c

/**
 * Whether JSON.stringify would escape any byte of this UTF-8 text: a control character, `"` or `\`
 * (valid UTF-8 holds no lone surrogates, the only other thing it escapes). Four bytes at a time: a JS
 * loop per byte cost twice as much. The word tests are exact for "any byte in the word" (borrows only
 * flag bytes above a byte that matched).
 */
export function needsJsonEscape (b: Buffer): boolean {
  const n = b.length
  let i = 0
  const head = Math.min(n, (4 - (b.byteOffset & 3)) & 3)
  for (; i < head; i++) if (needsEscapeByte(b[i] as number)) return true
  const words = (n - i) >>> 2
  if (words > 0) {
    const w32 = new Uint32Array(b.buffer, b.byteOffset + i, words)
    for (let k = 0; k < words; k++) {
      const w = w32[k] as number
      const quote = w ^ 0x22222222
      const backslash = w ^ 0x5c5c5c5c
      if ((((w - 0x20202020) & ~w) | ((quote - 0x01010101) & ~quote) | ((backslash - 0x01010101) & ~backslash)) & 0x80808080) return true
    }
    i += words * 4
  }
  for (; i < n; i++) if (needsEscapeByte(b[i] as number)) return true
  return false
}

const base64Value = (value: Buffer, valueError?: string): DecodedValue =>
  valueError === undefined ? { json: `"${value.toString('base64')}"`, valueEncoding: 'base64' } : { json: `"${value.toString('base64')}"`, valueEncoding: 'base64', valueError }

function textOrBase64 (value: Buffer): DecodedValue {
  if (!isUtf8(value)) return base64Value(value)
  if (!needsJsonEscape(value)) return { json: '', raw: value, quoted: true, valueEncoding: 'utf8' }
  return { json: JSON.stringify(value.toString('utf8')), valueEncoding: 'utf8' }
}

const isJsonSpace = (c: number | undefined): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

/** A JSON value's bytes without the whitespace around them (JSON.parse accepted them: only JSON's four). */
function trimmed (value: Buffer): Buffer {
  let from = 0
  let to = value.length
  while (from < to && isJsonSpace(value[from])) from++
  while (to > from && isJsonSpace(value[to - 1])) to--
  return from === 0 && to === value.length ? value : value.subarray(from, to)
}

export function decodeValue (value: Buffer | null, contentType: string | undefined): DecodedValue {
  if (value === null) return { json: 'null', valueEncoding: null }
  if (contentType === undefined) return textOrBase64(value)
  const { type, charset } = mediaType(contentType)
  if (type === 'application/json' || type.endsWith('+json')) {
    if (!isUtf8(value)) return base64Value(value, 'declared as JSON but not valid UTF-8')
    try {
      JSON.parse(value.toString('utf8')) // only checked: the bytes go into the body verbatim
      return { json: '', raw: trimmed(value), valueEncoding: 'json' }
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

/** The value's JSON as text (the string form of the body). */
export function valueJson (v: DecodedValue): string {
  if (v.raw === undefined) return v.json
  return v.quoted === true ? `"${v.raw.toString('utf8')}"` : v.raw.toString('utf8')
}
