import t from 'tap'
import {
  DEFAULT_BACKOFF, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_RETRY_DURATION_MS, DEFAULT_NON_RETRYABLE_STATUSES,
  backoffDelay, classify, decide, parseRetryAfter, resolvePolicy, type AttemptResult
} from '../../src/webhooks/retry-policy.js'

const res = (status: number, retryAfter?: string): AttemptResult => ({ kind: 'response', status, retryAfter })
const policy = resolvePolicy({}, true)

t.test('defaults', async t => {
  t.same(DEFAULT_NON_RETRYABLE_STATUSES, [400, 401, 403, 404, 410, 422])
  t.equal(DEFAULT_MAX_ATTEMPTS, 10)
  t.equal(DEFAULT_MAX_RETRY_DURATION_MS, 3_600_000)
  t.same({ ...DEFAULT_BACKOFF }, { initialMs: 500, factor: 2, maxMs: 60_000, jitter: 0.2, retryAfterMaxMs: 300_000 })
  t.equal(policy.maxAttempts, 10)
})

t.test('classification: only 2xx succeeds; listed statuses are permanent; the rest is retried', async t => {
  for (const s of [200, 201, 202, 204, 299]) t.equal(classify(res(s), DEFAULT_NON_RETRYABLE_STATUSES), 'success', String(s))
  for (const s of [400, 401, 403, 404, 410, 422]) t.equal(classify(res(s), DEFAULT_NON_RETRYABLE_STATUSES), 'permanent', String(s))
  for (const s of [301, 302, 307, 308, 405, 408, 409, 429, 500, 502, 503, 504]) t.equal(classify(res(s), DEFAULT_NON_RETRYABLE_STATUSES), 'retryable', String(s))
  t.equal(classify({ kind: 'error', error: 'ECONNREFUSED' }, DEFAULT_NON_RETRYABLE_STATUSES), 'retryable')
  t.equal(classify({ kind: 'error', error: 'timeout', timeout: true }, DEFAULT_NON_RETRYABLE_STATUSES), 'retryable')
  t.equal(classify(res(301), [301]), 'permanent', 'configurable')
  t.equal(classify(res(404), []), 'retryable', 'configurable')
})

t.test('backoff: exponential, ±20 % jitter, capped', async t => {
  const mid = (): number => 0.5
  t.equal(backoffDelay(1, DEFAULT_BACKOFF, mid), 500)
  t.equal(backoffDelay(2, DEFAULT_BACKOFF, mid), 1000)
  t.equal(backoffDelay(5, DEFAULT_BACKOFF, mid), 8000)
  t.equal(backoffDelay(30, DEFAULT_BACKOFF, mid), 60_000)
  t.equal(backoffDelay(1, DEFAULT_BACKOFF, () => 0), 400)
  t.equal(backoffDelay(1, DEFAULT_BACKOFF, () => 0.999999), 600)
  t.equal(backoffDelay(30, DEFAULT_BACKOFF, () => 0.999999), 60_000, 'jitter never exceeds the cap')
  t.equal(backoffDelay(30, DEFAULT_BACKOFF, () => 0), 48_000)
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(3, DEFAULT_BACKOFF)
    t.ok(d >= 1600 && d <= 2400, `${d} in [1600, 2400]`)
  }
  t.equal(backoffDelay(1000, DEFAULT_BACKOFF, mid), 60_000, 'no overflow')
})

t.test('Retry-After: seconds or HTTP date; junk ignored', async t => {
  const now = Date.parse('2024-01-01T00:00:00Z')
  t.equal(parseRetryAfter('3', now), 3000)
  t.equal(parseRetryAfter(' 0 ', now), 0)
  t.equal(parseRetryAfter('Mon, 01 Jan 2024 00:00:05 GMT', now), 5000)
  t.equal(parseRetryAfter('Sun, 31 Dec 2023 23:00:00 GMT', now), 0, 'a past date means now')
  for (const junk of [undefined, '', '-1', '1.5', 'soon', '1e3']) t.equal(parseRetryAfter(junk, now), undefined, String(junk))
})

t.test('decide: success, retry with backoff, Retry-After bounded, permanent → give up', async t => {
  const base = { firstAttemptAt: 0, now: 0, policy, random: () => 0.5 }
  t.same(decide({ ...base, result: res(204), attempts: 1 }), { action: 'success' })
  t.match(decide({ ...base, result: res(503), attempts: 1 }), { action: 'retry', delayMs: 500 })
  t.match(decide({ ...base, result: res(503), attempts: 3 }), { action: 'retry', delayMs: 2000 })
  t.match(decide({ ...base, result: res(429, '7'), attempts: 1 }), { action: 'retry', delayMs: 7000, reason: 'Retry-After' })
  t.match(decide({ ...base, result: res(429, '0'), attempts: 1 }), { action: 'retry', delayMs: 500 }, 'floored at the initial wait')
  t.match(decide({ ...base, result: res(503, '100000'), attempts: 1 }), { action: 'retry', delayMs: 300_000 }, 'capped at 5 min')
  t.match(decide({ ...base, result: res(302), attempts: 1 }), { action: 'retry' })
  t.match(decide({ ...base, result: res(404), attempts: 1 }), { action: 'give-up', reason: /non-retryable/ })
  t.match(decide({ ...base, result: { kind: 'error', error: 'ECONNREFUSED' }, attempts: 1 }), { action: 'retry' })
})

t.test('decide: gives up after maxAttempts, or when the next attempt would pass the duration budget', async t => {
  const p = resolvePolicy({ maxAttempts: 3, maxRetryDurationMs: 10_000 }, true)
  const base = { firstAttemptAt: 0, policy: p, random: () => 0.5 }
  t.match(decide({ ...base, now: 0, result: res(503), attempts: 2 }), { action: 'retry' })
  t.match(decide({ ...base, now: 0, result: res(503), attempts: 3 }), { action: 'give-up', reason: /3 attempts/ })
  t.match(decide({ ...base, now: 9_800, result: res(503), attempts: 1 }), { action: 'give-up', reason: /maxRetryDurationMs/ })
  t.match(decide({ ...base, now: 1_000, result: res(503, '60'), attempts: 1 }), { action: 'give-up', reason: /maxRetryDurationMs/ }, 'a Retry-After beyond the budget')
  t.match(decide({ ...base, now: 1_000, result: res(503, '5'), attempts: 1 }), { action: 'retry', delayMs: 5000 })
})

t.test('decide without a dead-letter topic: never gives up, even on permanent statuses', async t => {
  const p = resolvePolicy({ maxAttempts: 2, maxRetryDurationMs: 1 }, false)
  const d = decide({ result: res(400), attempts: 1000, firstAttemptAt: 0, now: 10_000_000, policy: p, random: () => 0.5 })
  t.match(d, { action: 'retry', delayMs: 60_000 })
})
