/**
 * What a failed HTTP attempt came to, as the retry policy and the logs see it: a non-2xx response with
 * the start of its body (and for 3xx its Location: redirects are never followed), or a request error
 * (timeout, blocked address, connection failure). Receiver text is scrubbed of the webhook's secrets.
 */
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http'
import type { AttemptResult } from '../retry-policy.js'
import { BLOCKED_ADDRESS_CODE } from '../url-policy.js'
import { errorText, oneLine } from './error-text.js'

/** Bytes of a failing response body kept for the dead-letter error and logs. */
export const ERROR_BODY_BYTES = 1024
/** A failing response body longer than this is not drained: its connection is closed instead. */
export const DRAIN_LIMIT_BYTES = 64 * 1024

/** An attempt's result with the text that logs, events and dead letters show for it. */
export type AttemptOutcome = AttemptResult & { detail: string }

/** Built once per status: the 2xx fast path asks for it on every delivered record. */
const statusTexts = new Map<number, string>()

export function statusText (status: number): string {
  let s = statusTexts.get(status)
  if (s === undefined) {
    const text = STATUS_CODES[status]
    s = text === undefined ? `HTTP ${status}` : `HTTP ${status} ${text}`
    if (status >= 100 && status < 600) statusTexts.set(status, s)
  }
  return s
}

function firstHeader (value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** The outcome of a non-2xx response, from its headers and the start of its body (bodyText, already cut). */
export function failedResponseOutcome (status: number, headers: IncomingHttpHeaders, bodyText: string, scrub: (text: string) => string): AttemptOutcome {
  const text = oneLine(bodyText)
  const retryAfter = firstHeader(headers['retry-after'])
  let detail = statusText(status)
  if (status >= 300 && status < 400) {
    const location = firstHeader(headers.location)
    detail += ` (redirects are not followed${location !== undefined ? `; Location: ${oneLine(location).slice(0, 256)}` : ''})`
  }
  if (text !== '') detail += `: ${text}`
  return { kind: 'response', status, retryAfter, detail: scrub(detail) }
}

/** The message of a guarded-lookup refusal (undici wraps it as the cause), or undefined. */
function blockedAddressError (err: unknown): string | undefined {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === BLOCKED_ADDRESS_CODE) return (e as Error).message
  }
  return undefined
}

/** The outcome of a request that failed without a response (not stopped: the caller checks that first). */
export function requestErrorOutcome (err: unknown, timedOut: boolean, timeoutMs: number, scrub: (text: string) => string): AttemptOutcome {
  if (timedOut) return { kind: 'error', error: `timeout after ${timeoutMs} ms`, timeout: true, detail: `timeout after ${timeoutMs} ms` }
  const blockedErr = blockedAddressError(err)
  if (blockedErr !== undefined) return { kind: 'error', error: blockedErr, permanent: true, detail: blockedErr }
  const text = scrub(errorText(err))
  return { kind: 'error', error: text, detail: text }
}
