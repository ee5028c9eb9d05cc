/**
 * The request for one record (its envelope as the body) or a batch (`{ records: [...] }`): body, id and
 * the headers fixed across retries, then per attempt the Standard Webhooks signature headers.
 */
import { performance } from 'node:perf_hooks'
import { batchBytes, envelopeBytes } from '../envelope-bytes.js'
import { headerText } from '../envelope.js'
import { addSignatureHeaders, webhookId } from '../signing.js'
import type { ConsumedRecord } from '../types.js'
import type { PreparedWebhook } from './prepared-webhook.js'

export const REQUEST_ID_HEADER = 'x-request-id'
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

export interface RequestSettings {
  /** e.g. `kafka-http-gateway/0.1.0`. */
  userAgent: string
  /** Benchmarks: the request header that carries the record's fetch time (epoch ms); off when undefined. */
  fetchedAtHeader: string | undefined
}

/** `records` is never empty; a single record's request has exactly one. Bytes: undici sends them as they are. */
export function requestBody (records: readonly ConsumedRecord[], batch: boolean): Buffer {
  return batch ? batchBytes(records) : envelopeBytes(records[0] as ConsumedRecord)
}

/** The webhook-id: stable across retries of this request; a batch is named by its first and last offsets. */
export function requestId (groupId: string, records: readonly ConsumedRecord[], batch: boolean): string {
  const first = records[0] as ConsumedRecord
  const offset = batch ? `${first.offset}-${(records[records.length - 1] as ConsumedRecord).offset}` : first.offset
  return webhookId(groupId, first.topic, first.partition, offset)
}

/**
 * The headers of this request's attempts (custom, request id, content type, user agent); each attempt
 * sets its signature headers on the same object (undici copies headers when a request is dispatched).
 */
export function fixedHeaders (p: PreparedWebhook, record: ConsumedRecord, batch: boolean, fetchedAt: number, settings: RequestSettings): Record<string, string> {
  const headers: Record<string, string> = { ...p.headers }
  // a batch has no one request id: each envelope carries its record's x-request-id header
  if (!p.hasRequestIdHeader && !batch) {
    const rid = headerText(record.headers, REQUEST_ID_HEADER)
    if (rid !== undefined && REQUEST_ID.test(rid)) headers[REQUEST_ID_HEADER] = rid
  }
  if (settings.fetchedAtHeader !== undefined) headers[settings.fetchedAtHeader] = String(performance.timeOrigin + fetchedAt)
  headers['content-type'] = 'application/json'
  headers['user-agent'] = settings.userAgent
  return headers
}

/** One attempt's headers: the request's, with the signatures for this attempt's timestamp set on them. */
export function signedHeaders (headers: Record<string, string>, p: PreparedWebhook, id: string, nowMs: number, body: Buffer): Record<string, string> {
  return addSignatureHeaders(headers, p.keys, id, Math.floor(nowMs / 1000), body)
}
