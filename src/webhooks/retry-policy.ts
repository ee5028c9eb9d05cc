/**
 * When to retry a webhook attempt, and how long to wait. Pure: time and randomness come in as arguments.
 *
 * - 2xx is success; nothing else is.
 * - Statuses in `nonRetryableStatuses` (default 400, 401, 403, 404, 410, 422) are permanent: dead-lettered
 *   at once.
 * - Everything else is retried: network errors, timeouts, 408, 429, 5xx, 3xx (a failure: redirects are
 *   not followed, and a moved endpoint is fixed by changing the URL — list 301/308 in
 *   `nonRetryableStatuses` to dead-letter them at once instead) and any other 4xx not in the list.
 * - Waits grow exponentially (initial 500 ms, factor 2) with ±20 % jitter, capped at 60 s.
 * - `Retry-After` (delta seconds or an HTTP date) replaces the computed wait, floored at the initial wait
 *   (no hot loop on `Retry-After: 0`) and capped at 5 minutes.
 * - The message is given up (dead-lettered) after `maxAttempts` attempts (default 10), or when the next
 *   attempt would start later than `maxRetryDurationMs` (default 1 h) after the first one.
 * - With dead-lettering off there is nothing to give up to: every failure, permanent ones included, is
 *   retried forever with the capped backoff (the partition stays blocked until the endpoint accepts).
 */

export interface BackoffOptions {
  /** Wait before the first retry. */
  initialMs: number
  /** Growth per retry. */
  factor: number
  /** Upper bound of a computed wait (after jitter). */
  maxMs: number
  /** Relative jitter, 0.2 = ±20 %. */
  jitter: number
  /** Upper bound of a `Retry-After` hint. */
  retryAfterMaxMs: number
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  initialMs: 500,
  factor: 2,
  maxMs: 60_000,
  jitter: 0.2,
  retryAfterMaxMs: 5 * 60_000
})

export const DEFAULT_NON_RETRYABLE_STATUSES: readonly number[] = Object.freeze([400, 401, 403, 404, 410, 422])
export const DEFAULT_MAX_ATTEMPTS = 10
export const DEFAULT_MAX_RETRY_DURATION_MS = 60 * 60_000

export interface RetryPolicy {
  maxAttempts: number
  maxRetryDurationMs: number
  nonRetryableStatuses: readonly number[]
  backoff: BackoffOptions
  /** False when there is no dead-letter topic: never give up. */
  canGiveUp: boolean
}

/** What one HTTP attempt produced. */
export type AttemptResult =
  | { kind: 'response', status: number, retryAfter?: string | undefined }
  /** `permanent`: a failure no retry can fix (e.g. the URL is refused); dead-lettered at once. */
  | { kind: 'error', error: string, timeout?: boolean, permanent?: boolean }

export type Classification = 'success' | 'retryable' | 'permanent'

export function classify (result: AttemptResult, nonRetryableStatuses: readonly number[]): Classification {
  if (result.kind === 'error') return result.permanent === true ? 'permanent' : 'retryable'
  if (result.status >= 200 && result.status < 300) return 'success'
  if (nonRetryableStatuses.includes(result.status)) return 'permanent'
  return 'retryable'
}

/** The wait before retry number `retry` (1 = the first retry), with jitter from `random` in [0, 1). */
export function backoffDelay (retry: number, backoff: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(backoff.maxMs, backoff.initialMs * Math.pow(backoff.factor, Math.max(0, retry - 1)))
  const jittered = exp * (1 + backoff.jitter * (2 * random() - 1))
  return Math.max(0, Math.round(Math.min(backoff.maxMs, jittered)))
}

/** `Retry-After` as a wait in ms from `nowMs`: delta-seconds or an HTTP date; undefined when absent or malformed. */
export function parseRetryAfter (value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined
  const v = value.trim()
  if (v === '') return undefined
  if (/^\d+$/.test(v)) return Number(v) * 1000
  // an HTTP date has a weekday name and a time; refuse bare numbers with signs or decimals
  if (!/[A-Za-z]/.test(v)) return undefined
  const at = Date.parse(v)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - nowMs)
}

export type Decision =
  | { action: 'success' }
  | { action: 'retry', delayMs: number, reason: string }
  | { action: 'give-up', reason: string }

export interface DecideInput {
  result: AttemptResult
  /** Attempts made so far, this one included (≥ 1). */
  attempts: number
  /** Wall-clock ms of the first attempt's start. */
  firstAttemptAt: number
  /** Wall-clock ms now. */
  now: number
  policy: RetryPolicy
  random?: () => number
}

/** What to do after an attempt. */
export function decide ({ result, attempts, firstAttemptAt, now, policy, random = Math.random }: DecideInput): Decision {
  const cls = classify(result, policy.nonRetryableStatuses)
  if (cls === 'success') return { action: 'success' }
  if (policy.canGiveUp && cls === 'permanent') return { action: 'give-up', reason: result.kind === 'response' ? 'non-retryable status' : 'not retryable' }
  if (policy.canGiveUp && attempts >= policy.maxAttempts) return { action: 'give-up', reason: `gave up after ${attempts} attempts (maxAttempts ${policy.maxAttempts})` }

  const { backoff } = policy
  const hinted = result.kind === 'response' ? parseRetryAfter(result.retryAfter, now) : undefined
  const delayMs = hinted !== undefined
    ? Math.min(Math.max(hinted, backoff.initialMs), backoff.retryAfterMaxMs)
    : backoffDelay(attempts, backoff, random)

  if (policy.canGiveUp && now + delayMs - firstAttemptAt > policy.maxRetryDurationMs) {
    return { action: 'give-up', reason: `gave up after ${attempts} attempts: the next one would exceed maxRetryDurationMs ${policy.maxRetryDurationMs}` }
  }
  return { action: 'retry', delayMs, reason: hinted !== undefined ? 'Retry-After' : 'backoff' }
}

/** The policy of one webhook: its settings over the defaults. */
export function resolvePolicy (webhook: {
  maxAttempts?: number | undefined
  maxRetryDurationMs?: number | undefined
  nonRetryableStatuses?: number[] | undefined
}, canGiveUp: boolean, backoff: BackoffOptions = DEFAULT_BACKOFF): RetryPolicy {
  return {
    maxAttempts: Math.max(1, webhook.maxAttempts ?? DEFAULT_MAX_ATTEMPTS),
    maxRetryDurationMs: Math.max(0, webhook.maxRetryDurationMs ?? DEFAULT_MAX_RETRY_DURATION_MS),
    nonRetryableStatuses: webhook.nonRetryableStatuses ?? DEFAULT_NON_RETRYABLE_STATUSES,
    backoff,
    canGiveUp
  }
}
