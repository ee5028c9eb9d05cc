/**
 * The attempt/retry loop of one request — one record, or consecutive records of one partition as a batch —
 * retried until the webhook answers 2xx, the records are dead-lettered, or the delivery is stopped
 * (ctx.signal, close(), a lost group membership). With `deadLetterTopic: false` nothing is ever given up:
 * the partition stays blocked, retrying with the capped backoff, until the endpoint accepts.
 * Logs name the URL by origin and path only (no query string), never secrets or custom header values.
 */
import { performance } from 'node:perf_hooks'
import { sleep } from '../../util/async.js'
import { deadLetterTopicFor } from '../dead-letter.js'
import { decide } from '../retry-policy.js'
import type { ConsumedRecord, DeliveryContext, DeliveryEvent, DeliveryOutcome } from '../types.js'
import { AbortedError, track, untrack, waitSignal } from './active.js'
import { deadLetterAll } from './dead-letter-handoff.js'
import { attempt } from './dispatch.js'
import { errorText } from './error-text.js'
import { emit } from './events.js'
import { policyOf, prepareWebhook } from './prepared-webhook.js'
import { fixedHeaders, requestBody, requestId, signedHeaders } from './request.js'
import type { AttemptOutcome } from './response.js'
import type { DelivererState } from './state.js'

/** What the events and log lines of one request share. */
interface RequestFields {
  groupId: string
  topic: string
  partition: number
  offset: string
  records?: number
}

/**
 * The events of a 2xx attempt and of its delivery, two per record: built field by field (a spread of
 * `base` into each cost more than the rest of the loop).
 */
function okEvent (base: RequestFields, kind: 'attempt' | 'delivered', attempt: number, status: number, durationMs: number): DeliveryEvent {
  const e: DeliveryEvent = { groupId: base.groupId, topic: base.topic, partition: base.partition, offset: base.offset, kind, attempt, status, durationMs }
  if (base.records !== undefined) e.records = base.records
  return e
}

/** The outcome of a delivery stopped after it began (not committed), reported and logged. */
function stopped (state: DelivererState, base: RequestFields, logUrl: string, attempts: number, stopReason: unknown): DeliveryOutcome {
  const reason = errorText(stopReason)
  if (state.observer !== undefined) emit(state.observer, state.log, { ...base, kind: 'aborted', attempt: attempts, error: reason })
  state.log.debug({ ...base, url: logUrl, attempts, reason }, 'webhook delivery stopped before completion')
  return { outcome: 'aborted', attempts, reason }
}

/** One request for `records`: the envelope alone, or `{ records }` when `batch`. */
export async function deliverRecords (state: DelivererState, records: readonly ConsumedRecord[], batch: boolean, ctx: DeliveryContext): Promise<DeliveryOutcome> {
  const record = records[0]
  if (record === undefined) return { outcome: 'delivered', attempts: 0, status: 0 }
  const { log, observer } = state
  const base: RequestFields = batch
    ? { groupId: ctx.groupId, topic: record.topic, partition: record.partition, offset: record.offset, records: records.length }
    : { groupId: ctx.groupId, topic: record.topic, partition: record.partition, offset: record.offset }
  if (state.active.closed || ctx.signal.aborted) {
    const reason = state.active.closed ? 'deliverer closed' : 'aborted'
    if (observer !== undefined) emit(observer, log, { ...base, kind: 'aborted', attempt: 0, error: reason })
    return { outcome: 'aborted', attempts: 0, reason }
  }
  const webhook = ctx.webhook
  const p = prepareWebhook(state.webhooks, webhook)
  const dlqTopic = deadLetterTopicFor(ctx.groupId, webhook.deadLetterTopic)
  const policy = policyOf(state.webhooks, webhook, dlqTopic !== undefined)
  const body = requestBody(records, batch)
  const id = requestId(ctx.groupId, records, batch)
  const headers = fixedHeaders(p, record, batch, ctx.fetchedAt, state.request)
  let attempts = 0

  const tracked = track(state.active, ctx)
  try {
    const firstAttemptAt = state.now()
    let lastAttemptAt = firstAttemptAt
    for (;;) {
      if (tracked.stopReason !== undefined) return stopped(state, base, p.logUrl, attempts, tracked.stopReason)
      attempts++
      lastAttemptAt = state.now()
      signedHeaders(headers, p, id, lastAttemptAt, body)
      const t0 = performance.now()
      let result: AttemptOutcome
      try {
        result = await attempt(state.agent, p, headers, body, tracked)
      } catch (err) {
        if (err instanceof AbortedError) return stopped(state, base, p.logUrl, attempts, tracked.stopReason)
        throw err
      }
      const status = result.kind === 'response' ? result.status : undefined
      if (observer !== undefined) {
        const durationMs = performance.now() - t0
        if (status !== undefined && status >= 200 && status < 300) {
          emit(observer, log, okEvent(base, 'attempt', attempts, status, durationMs))
        } else {
          emit(observer, log, { ...base, kind: 'attempt', attempt: attempts, ...(status !== undefined ? { status } : {}), error: result.detail, durationMs })
        }
      }

      const decision = decide({ result, attempts, firstAttemptAt, now: state.now(), policy, random: state.random })
      if (decision.action === 'success') {
        const latency = performance.now() - ctx.fetchedAt
        if (observer !== undefined) emit(observer, log, okEvent(base, 'delivered', attempts, status ?? 0, latency))
        if (attempts > 1) log.info({ ...base, url: p.logUrl, attempts, status }, 'webhook delivered after retries')
        return { outcome: 'delivered', attempts, status: status ?? 0 }
      }
      if (decision.action === 'retry') {
        if (observer !== undefined) emit(observer, log, { ...base, kind: 'retry-scheduled', attempt: attempts, ...(status !== undefined ? { status } : {}), error: result.detail, delayMs: decision.delayMs })
        log.warn({ ...base, url: p.logUrl, attempt: attempts, status, err: result.detail, retryInMs: decision.delayMs }, 'webhook attempt failed; will retry')
        await sleep(decision.delayMs, waitSignal(tracked))
        continue
      }

      // give up: dead-letter (policy.canGiveUp implies a topic)
      const error = `${result.detail} (${decision.reason})`
      log.warn({ ...base, url: p.logUrl, attempts, status, err: error, deadLetterTopic: dlqTopic }, 'webhook delivery failed; dead-lettering')
      if (dlqTopic === undefined) throw new Error('unreachable: gave up without a dead-letter topic')
      const failure = { groupId: ctx.groupId, status, error, attempts, firstAttemptAt, lastAttemptAt }
      if (!await deadLetterAll(state.dlq, dlqTopic, records, failure, waitSignal(tracked))) return stopped(state, base, p.logUrl, attempts, tracked.stopReason)
      if (observer !== undefined) emit(observer, log, { ...base, kind: 'dead-lettered', attempt: attempts, ...(status !== undefined ? { status } : {}), error, durationMs: performance.now() - ctx.fetchedAt })
      return { outcome: 'dead-lettered', attempts, status, error }
    }
  } finally {
    untrack(state.active, tracked)
  }
}
