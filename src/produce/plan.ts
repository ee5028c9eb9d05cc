/**
 * The request-side checks of a produce that need no broker: the body's form (single or batch), the
 * options, and each message encoded into bytes and headers. Everything here is a 400 naming the field.
 */
import kafkajs from 'kafkajs'
import { fieldError } from '../errors.js'
import { COMPRESSIONS, compressionType, type CompressionName } from '../kafka/codecs.js'
import { assertTopicName } from '../kafka/topics.js'
import { encodeKey, encodeValue, KEY_ENCODING_BINARY, KEY_ENCODING_HEADER, userHeaders } from './encoding.js'
import { CONTENT_TYPE_HEADER, recordBytes } from '../kafka/record-format.js'
import type { Acks, MessageInput, ProduceRequestInput, SendOptions } from './types.js'

const { CompressionCodecs } = kafkajs

export const DEFAULT_OPTIONS: SendOptions = { acks: -1, timeout: 30_000, compression: 'none' }
export const MAX_TIMEOUT_MS = 300_000
export const MAX_MESSAGES = 10_000

/** Fields of the single form; in the batch form they belong inside `messages[i]`. */
const SINGLE_FIELDS = ['value', 'valueEncoding', 'key', 'keyEncoding', 'headers', 'partitions', 'arrival'] as const

export interface EncodedMessage {
  /** Position in the request (0 for the single form). */
  index: number
  /** Path of the message in the body, for error fields: `body` or `body/messages/<i>`. */
  prefix: string
  key: Buffer | null
  value: Buffer | null
  /** User headers plus content-type and key-encoding; departure, x-request-id and arrival are added later. */
  headers: Record<string, string>
  partitions: number[] | undefined
  arrival: string | undefined
  /** Upper bound of the encoded record (key, value, headers so far, framing). */
  bytes: number
}

export interface NormalizedRequest {
  topic: string
  batch: boolean
  messages: EncodedMessage[]
  options: SendOptions
}

export function resolveOptions (options: ProduceRequestInput['options']): SendOptions {
  if (options === undefined) return DEFAULT_OPTIONS
  if (options === null || typeof options !== 'object') throw fieldError('body/options', 'type', 'must be an object')
  const acks = options.acks ?? DEFAULT_OPTIONS.acks
  if (acks !== -1 && acks !== 0 && acks !== 1) throw fieldError('body/options/acks', 'enum', 'must be -1 (all replicas), 0 (no answer) or 1 (leader)')
  const timeout = options.timeout ?? DEFAULT_OPTIONS.timeout
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > MAX_TIMEOUT_MS) throw fieldError('body/options/timeout', 'range', `must be an integer between 1 and ${MAX_TIMEOUT_MS} (ms)`)
  const compression: CompressionName = options.compression ?? DEFAULT_OPTIONS.compression
  if (!COMPRESSIONS.includes(compression)) throw fieldError('body/options/compression', 'enum', `must be one of ${COMPRESSIONS.join(', ')}`)
  // never silently uncompressed: a codec kafkajs does not have is refused
  if (compression !== 'none' && !Object.hasOwn(CompressionCodecs, compressionType(compression))) {
    throw fieldError('body/options/compression', 'codecAvailable', `${compression} is not available on this gateway`)
  }
  return { acks: acks as Acks, timeout, compression }
}

function checkPartitions (message: MessageInput, prefix: string): number[] | undefined {
  const { partitions } = message
  if (partitions === undefined) return undefined
  const field = `${prefix}/partitions`
  if (!Array.isArray(partitions)) throw fieldError(field, 'type', 'must be an array of partition numbers')
  if (partitions.length === 0) throw fieldError(field, 'minItems', 'must list at least one partition (omit it to let the partitioner choose)')
  const seen = new Set<number>()
  partitions.forEach((p, j) => {
    if (!Number.isInteger(p) || p < 0) throw fieldError(`${field}/${j}`, 'type', 'must be a non-negative integer')
    if (seen.has(p)) throw fieldError(`${field}/${j}`, 'uniqueItems', `partition ${p} is listed twice`)
    seen.add(p)
  })
  return partitions
}

function checkArrival (message: MessageInput, prefix: string): string | undefined {
  const { arrival } = message
  if (arrival === undefined) return undefined
  if (typeof arrival !== 'string' || arrival.length === 0 || arrival.length > 255) throw fieldError(`${prefix}/arrival`, 'type', 'must be a client id of 1-255 characters')
  return arrival
}

export function encodeMessage (message: MessageInput, index: number, prefix: string): EncodedMessage {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) throw fieldError(prefix, 'type', 'must be an object')
  const { value, contentType } = encodeValue(message, prefix)
  const { key, binary } = encodeKey(message, prefix)
  const headers: Record<string, string> = { ...userHeaders(message, prefix) }
  if (contentType !== undefined) headers[CONTENT_TYPE_HEADER] = contentType
  if (binary) headers[KEY_ENCODING_HEADER] = KEY_ENCODING_BINARY
  return { index, prefix, key, value, headers, partitions: checkPartitions(message, prefix), arrival: checkArrival(message, prefix), bytes: recordBytes(key, value, headers) }
}

/** Topic name, form (single xor batch), options, and every message encoded; throws 400 naming the field. */
export function normalizeRequest (request: ProduceRequestInput): NormalizedRequest {
  if (request === null || typeof request !== 'object' || Array.isArray(request)) throw fieldError('body', 'type', 'must be a JSON object')
  if (typeof request.topic !== 'string') throw fieldError('body/topic', Object.hasOwn(request, 'topic') ? 'type' : 'required', Object.hasOwn(request, 'topic') ? 'must be a string' : 'is required')
  assertTopicName('body/topic', request.topic)
  const options = resolveOptions(request.options)

  if (request.messages === undefined) {
    return { topic: request.topic, batch: false, messages: [encodeMessage(request, 0, 'body')], options }
  }
  for (const f of SINGLE_FIELDS) {
    if (Object.hasOwn(request, f)) throw fieldError(`body/${f}`, 'exclusive', `cannot be combined with "messages": put it inside each message`)
  }
  if (!Array.isArray(request.messages)) throw fieldError('body/messages', 'type', 'must be an array of messages')
  if (request.messages.length === 0) throw fieldError('body/messages', 'minItems', 'must contain at least one message')
  if (request.messages.length > MAX_MESSAGES) throw fieldError('body/messages', 'maxItems', `must contain at most ${MAX_MESSAGES} messages`)
  const messages = request.messages.map((m, i) => encodeMessage(m, i, `body/messages/${i}`))
  return { topic: request.topic, batch: true, messages, options }
}
