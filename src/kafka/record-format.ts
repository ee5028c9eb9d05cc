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
export const RESERVED_HEADERS = ['departure', 'arrival', CONTENT_TYPE_HEADER, 'key-encoding', 'x-request-id'] as const
export const DEPARTURE_HEADER = 'departure'
export const ARRIVAL_HEADER = 'arrival'
export const REQUEST_ID_HEADER = 'x-request-id'
/** Set on records whose key the producer gave as bytes (base64 over HTTP); consumers deliver such keys as base64. */
export const KEY_ENCODING_HEADER = 'key-encoding'
export const KEY_ENCODING_BINARY = 'binary'
