/**
 * Standard Webhooks signing (https://www.standardwebhooks.com):
 * - `webhook-id`: derived from group, topic, partition and offset, so every retry (and every re-delivery
 *   after a crash or rebalance) of one record carries the same id — the receiver's idempotency key;
 * - `webhook-timestamp`: unix seconds of the attempt (new per attempt: receivers reject stale ones);
 * - `webhook-signature`: `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, one per secret,
 *   space-separated (rotation: the receiver accepts any one it knows).
 */
import * as crypto from 'node:crypto'
import { createHash, createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto'

export const WEBHOOK_ID_HEADER = 'webhook-id'
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp'
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature'

const SECRET_PREFIX = 'whsec_'
export const MIN_SECRET_BYTES = 24
export const MAX_SECRET_BYTES = 1024
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Why `secret` is not a usable Standard Webhooks secret (`whsec_` + base64 of 24..1024 bytes), or undefined. */
export function secretProblem (secret: string): string | undefined {
  if (!secret.startsWith(SECRET_PREFIX)) return `must start with "${SECRET_PREFIX}"`
  const b64 = secret.slice(SECRET_PREFIX.length)
  if (b64 === '' || !BASE64.test(b64)) return `must be "${SECRET_PREFIX}" followed by standard base64 (A-Z a-z 0-9 + /, "=" padding)`
  const n = Buffer.from(b64, 'base64').length
  if (n < MIN_SECRET_BYTES) return `must encode at least ${MIN_SECRET_BYTES} bytes (got ${n})`
  if (n > MAX_SECRET_BYTES) return `must encode at most ${MAX_SECRET_BYTES} bytes (got ${n})`
  return undefined
}

/** The HMAC key of a `whsec_` secret. Throws (without the secret in the message) when it is malformed. */
export function decodeSecret (secret: string): Buffer {
  const problem = secretProblem(secret)
  if (problem !== undefined) throw new Error(`invalid webhook secret: ${problem}`)
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64')
}

/** The HMAC key of a secret as a KeyObject (prepared once: cheaper to sign with than raw bytes). */
export function secretKey (secret: string): KeyObject {
  return createSecretKey(decodeSecret(secret))
}

/** A fresh random secret, e.g. for documentation or tests. */
export function generateSecret (bytes = 32): string {
  return SECRET_PREFIX + randomBytes(bytes).toString('base64')
}

/**
 * `msg_` + 32 base64url characters (192 bits) of SHA-256 over group, topic, partition and offset.
 * Stable across retries and re-deliveries; distinct per consumer group.
 */
export function webhookId (groupId: string, topic: string, partition: number, offset: string): string {
  return `msg_${sha256Base64Url(`${groupId}\u0000${topic}\u0000${partition}\u0000${offset}`).slice(0, 32)}`
}

/** One-shot crypto.hash (Node ≥ 20.12) where there is one: no Hash object per id, computed per record. */
const sha256Base64Url: (text: string) => string = typeof crypto.hash === 'function'
  ? text => crypto.hash('sha256', text, 'base64url')
  : text => createHash('sha256').update(text).digest('base64url')

/** `v1,<base64 signature>` for one key. */
export function sign (key: Buffer | KeyObject, id: string, timestampSeconds: number, body: string | Buffer): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(body).digest('base64')}`
}

/** The three Standard Webhooks headers; `webhook-signature` only when there is at least one key. */
export function signatureHeaders (keys: ReadonlyArray<Buffer | KeyObject>, id: string, timestampSeconds: number, body: string | Buffer): Record<string, string> {
  return addSignatureHeaders({}, keys, id, timestampSeconds, body)
}

/** Sets the Standard Webhooks headers on `headers` (no copy: the per-attempt hot path) and returns it. */
export function addSignatureHeaders (headers: Record<string, string>, keys: ReadonlyArray<Buffer | KeyObject>, id: string, timestampSeconds: number, body: string | Buffer): Record<string, string> {
  headers[WEBHOOK_ID_HEADER] = id
  headers[WEBHOOK_TIMESTAMP_HEADER] = String(timestampSeconds)
  if (keys.length > 0) headers[WEBHOOK_SIGNATURE_HEADER] = keys.map(k => sign(k, id, timestampSeconds, body)).join(' ')
  return headers
}
