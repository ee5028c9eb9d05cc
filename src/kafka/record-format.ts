/**
 * How the gateway writes record values and which header names it reserves. Producers write the
 * `content-type` header; webhook delivery reads it back to decode values without guessing.
 */
export const CONTENT_TYPE_HEADER = 'content-type'
export const CONTENT_TYPES = {
  json: 'application/json',
  text: 'text/plain; charset=utf-8',
  binary: 'application/octet-stream'
} as const

/** Headers every gateway record may carry; users cannot set them. `departure`/`arrival` are syrup-kafka's. */
export const DEPARTURE_HEADER = 'departure'
export const ARRIVAL_HEADER = 'arrival'
export const REQUEST_ID_HEADER = 'x-request-id'
/** Set on records whose key the producer gave as bytes (base64 over HTTP); consumers deliver such keys as base64. */
export const KEY_ENCODING_HEADER = 'key-encoding'
export const RESERVED_HEADERS = [DEPARTURE_HEADER, ARRIVAL_HEADER, CONTENT_TYPE_HEADER, KEY_ENCODING_HEADER, REQUEST_ID_HEADER] as const
export const KEY_ENCODING_BINARY = 'binary'

/** Upper bounds of a v2 record's framing (length, attributes, timestamp/offset deltas, key/value lengths, header count). */
export const RECORD_OVERHEAD_BYTES = 32
/** Upper bound of one header's framing (name and value lengths). */
export const HEADER_OVERHEAD_BYTES = 10

export const headerBytes = (name: string, value: string | Buffer): number => Buffer.byteLength(name) + Buffer.byteLength(value) + HEADER_OVERHEAD_BYTES

/** An upper bound of a record's encoded size: key, value, headers and framing. */
export function recordBytes (key: Buffer | null | undefined, value: Buffer | null | undefined, headers: Record<string, string | Buffer | Array<string | Buffer> | undefined>): number {
  let bytes = RECORD_OVERHEAD_BYTES + (key?.length ?? 0) + (value?.length ?? 0)
  for (const [name, v] of Object.entries(headers)) {
    if (v === undefined) continue
    if (Array.isArray(v)) for (const one of v) bytes += headerBytes(name, one)
    else bytes += headerBytes(name, v)
  }
  return bytes
}
