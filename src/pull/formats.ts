/**
 * The bodies GET …/records answers. Default: `{"records":[<webhook envelope>…]}`, written by the webhook's
 * own body writer (src/webhooks/envelope-bytes.ts), exactly as GET /topics/{t}/partitions/{p}/records answers.
 * Confluent REST Proxy v2 clients ask (Accept) for `application/vnd.kafka.json.v2+json` — an array of
 * `{topic, key, value, partition, offset}` with key and value as JSON (text that is not JSON as a string) — or
 * `application/vnd.kafka.binary.v2+json`, the same with key and value base64 (v1's types alike).
 */
import { CONFLUENT_V2 } from '../confluent/produce.js'
import { batchBytes } from '../webhooks/envelope-bytes.js'
import type { ConsumedRecord } from '../webhooks/types.js'
import type { RecordFormat } from './types.js'

export const CONFLUENT_JSON = 'application/vnd.kafka.json.v2+json'
export const CONFLUENT_BINARY = 'application/vnd.kafka.binary.v2+json'
/** Request bodies Confluent's clients send, all JSON: v2's, and v1's (the kafka-rest node client speaks v1). */
export const CONFLUENT_CONTENT_TYPES = [CONFLUENT_V2, CONFLUENT_JSON, CONFLUENT_BINARY, 'application/vnd.kafka.v1+json', 'application/vnd.kafka.json.v1+json', 'application/vnd.kafka.binary.v1+json']

/** The Accept header decides (v1 or v2 types); a generic or absent one leaves the instance's `format`. */
export function recordFormat (accept: string | undefined, instanceFormat: RecordFormat): RecordFormat {
  const a = (accept ?? '').toLowerCase()
  if (/application\/vnd\.kafka\.binary\.v[12]\+json/.test(a)) return 'binary'
  if (/application\/vnd\.kafka\.json\.v[12]\+json/.test(a)) return 'json'
  return instanceFormat
}

export function contentTypeOf (format: RecordFormat): string {
  return format === 'binary' ? CONFLUENT_BINARY : format === 'json' ? CONFLUENT_JSON : 'application/json; charset=utf-8'
}

/** JSON text kept verbatim (every digit of a number survives); anything else becomes a JSON string. */
function asJson (bytes: Buffer | null): string {
  if (bytes === null) return 'null'
  const text = bytes.toString('utf8')
  try {
    JSON.parse(text)
    return text.trim()
  } catch {
    return JSON.stringify(text)
  }
}

const asBase64 = (bytes: Buffer | null): string => bytes === null ? 'null' : JSON.stringify(bytes.toString('base64'))

/** As bytes: given text, Fastify would measure it (flattening it) and Node encode it again. */
export function recordsBody (records: readonly ConsumedRecord[], format: RecordFormat): Buffer {
  if (format === 'envelope') return batchBytes(records)
  const encode = format === 'binary' ? asBase64 : asJson
  return Buffer.from(`[${records.map(r => `{"topic":${JSON.stringify(r.topic)},"key":${encode(r.key)},"value":${encode(r.value)},"partition":${r.partition},"offset":${r.offset}}`).join(',')}]`)
}
