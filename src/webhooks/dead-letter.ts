/**
 * The dead-letter topic: where a record goes when its webhook refused it for good or retries ran out.
 *
 * The dead letter keeps the original key, value and headers (so it can be replayed as is) and adds:
 * `dlq-original-topic`, `dlq-original-partition`, `dlq-original-offset`, `dlq-original-timestamp`,
 * `dlq-group-id`, `dlq-status` (last HTTP status, absent after network errors), `dlq-error`,
 * `dlq-attempts`, `dlq-first-attempt-at`, `dlq-last-attempt-at` (ISO 8601). Existing headers with
 * these names (a dead letter dead-lettered again) are replaced.
 *
 * The topic (default `<groupId>.dlq`) is created with the broker's defaults (partitions, replication)
 * when missing. The write is acknowledged by all in-sync replicas (acks -1) before `write` resolves, and
 * a failed write is retried with backoff until it succeeds or the signal aborts: the caller never gets
 * "written" without the write. (The caller keeps the consumer's heartbeats going meanwhile.)
 */
import type { Admin, IHeaders, Message, Producer } from 'kafkajs'
import type { Logger } from 'pino'
import { topicNameProblem } from '../kafka/topics.js'
import { recordBytes } from '../kafka/record-format.js'
import { sleep } from '../util/async.js'
import type { ConsumedRecord } from './types.js'
import { createTopicsAndWait } from '../kafka/create-topics.js'

export const DLQ_HEADERS = Object.freeze({
  originalTopic: 'dlq-original-topic',
  originalPartition: 'dlq-original-partition',
  originalOffset: 'dlq-original-offset',
  originalTimestamp: 'dlq-original-timestamp',
  groupId: 'dlq-group-id',
  status: 'dlq-status',
  error: 'dlq-error',
  attempts: 'dlq-attempts',
  firstAttemptAt: 'dlq-first-attempt-at',
  lastAttemptAt: 'dlq-last-attempt-at'
})

/** Longest `dlq-error` header value (characters). */
export const MAX_DLQ_ERROR_LENGTH = 2048

/**
 * The dead-letter topic of a group: the configured one, `<groupId>.dlq` by default (characters Kafka does
 * not allow in topic names replaced by `_`, at most 249 characters), or undefined when turned off.
 */
export function deadLetterTopicFor (groupId: string, configured: string | false | undefined): string | undefined {
  if (configured === false) return undefined
  if (configured !== undefined) return configured
  const base = groupId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 249 - '.dlq'.length)
  return `${base}.dlq`
}

export interface DeadLetter {
  groupId: string
  record: ConsumedRecord
  /** The last HTTP status, when the last attempt got a response. */
  status: number | undefined
  error: string
  attempts: number
  /** Wall-clock ms. */
  firstAttemptAt: number
  lastAttemptAt: number
}

/** The Kafka message written for a dead letter. */
export function deadLetterMessage (dl: DeadLetter): Message {
  const headers: IHeaders = {}
  for (const [name, value] of Object.entries(dl.record.headers ?? {})) {
    if (value !== undefined) headers[name] = value
  }
  const error = dl.error.length > MAX_DLQ_ERROR_LENGTH ? `${dl.error.slice(0, MAX_DLQ_ERROR_LENGTH - 1)}…` : dl.error
  headers[DLQ_HEADERS.originalTopic] = dl.record.topic
  headers[DLQ_HEADERS.originalPartition] = String(dl.record.partition)
  headers[DLQ_HEADERS.originalOffset] = dl.record.offset
  headers[DLQ_HEADERS.originalTimestamp] = dl.record.timestamp
  headers[DLQ_HEADERS.groupId] = dl.groupId
  if (dl.status !== undefined) headers[DLQ_HEADERS.status] = String(dl.status)
  else delete headers[DLQ_HEADERS.status]
  headers[DLQ_HEADERS.error] = error
  headers[DLQ_HEADERS.attempts] = String(dl.attempts)
  headers[DLQ_HEADERS.firstAttemptAt] = new Date(dl.firstAttemptAt).toISOString()
  headers[DLQ_HEADERS.lastAttemptAt] = new Date(dl.lastAttemptAt).toISOString()
  return { key: dl.record.key, value: dl.record.value, headers }
}

/**
 * Bytes per dead-letter produce request: a refused batch (up to 1000 records, each with up to 2 KiB of
 * dlq-error) must not become one request over the broker's default message.max.bytes (1 MiB), which
 * would be refused — and retried — for good.
 */
export const MAX_DEAD_LETTER_SEND_BYTES = 512 * 1024

/** `messages` in order, cut into sends of at most MAX_DEAD_LETTER_SEND_BYTES (a larger record goes alone). */
export function sendsOf (messages: readonly Message[]): Message[][] {
  const sends: Message[][] = []
  let current: Message[] = []
  let bytes = 0
  for (const m of messages) {
    const size = recordBytes(m.key as Buffer | null, m.value as Buffer | null, m.headers ?? {})
    if (current.length > 0 && bytes + size > MAX_DEAD_LETTER_SEND_BYTES) {
      sends.push(current)
      current = []
      bytes = 0
    }
    current.push(m)
    bytes += size
  }
  if (current.length > 0) sends.push(current)
  return sends
}

export interface DeadLetterWriterDeps {
  getProducer: () => Promise<Producer>
  getAdmin: () => Promise<Admin>
  logger: Logger
  /** Waits between failed writes: exponential from initialMs, capped at maxMs (defaults 500 ms, 30 s). */
  retry?: { initialMs?: number, maxMs?: number }
}

export interface DeadLetterWriter {
  /**
   * Writes the dead letter to `topic` (creating it when missing), retrying until it is acknowledged.
   * Resolves true once written, false when `signal` aborted first (the write may then still land: at least once).
   */
  write (topic: string, dl: DeadLetter, signal: AbortSignal): Promise<boolean>
  /** The same for several dead letters (a batch request's records), written in one produce request. */
  writeAll (topic: string, dls: readonly DeadLetter[], signal: AbortSignal): Promise<boolean>
}

/** Whether a kafkajs error (or one it wraps) says the topic already exists. */
export function isTopicAlreadyExists (err: unknown, depth = 0): boolean {
  if (depth > 4 || typeof err !== 'object' || err === null) return false
  const e = err as { type?: unknown, errors?: unknown, cause?: unknown, originalError?: unknown }
  if (e.type === 'TOPIC_ALREADY_EXISTS') return true
  if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every(x => isTopicAlreadyExists(x, depth + 1))) return true
  return isTopicAlreadyExists(e.cause, depth + 1) || isTopicAlreadyExists(e.originalError, depth + 1)
}

function message (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** Resolves with `promise`, or with undefined as soon as `signal` aborts. */
async function unlessAborted<T> (promise: Promise<T>, signal: AbortSignal): Promise<{ value: T } | undefined> {
  if (signal.aborted) {
    promise.catch(() => {})
    return undefined
  }
  let onAbort: (() => void) | undefined
  const aborted = new Promise<undefined>(resolve => {
    onAbort = () => resolve(undefined)
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise.then(value => ({ value })), aborted])
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
    promise.catch(() => {})
  }
}

export function createDeadLetterWriter (deps: DeadLetterWriterDeps): DeadLetterWriter {
  const log = deps.logger.child({ component: 'webhooks-dlq' })
  const initialMs = deps.retry?.initialMs ?? 500
  const maxMs = deps.retry?.maxMs ?? 30_000
  /** Topics created (or found existing) by this process; an entry is dropped when a write fails. */
  const ensured = new Map<string, Promise<void>>()

  function ensureTopic (topic: string): Promise<void> {
    let pending = ensured.get(topic)
    if (pending === undefined) {
      pending = (async () => {
        const admin = await deps.getAdmin()
        try {
          // no numPartitions/replicationFactor: the broker's defaults (-1 in the request)
          const created = await createTopicsAndWait(admin, { topics: [{ topic }] })
          if (created) log.info({ topic }, 'dead-letter topic created')
        } catch (err) {
          if (!isTopicAlreadyExists(err)) throw err // another process created it meanwhile: fine
        }
      })()
      ensured.set(topic, pending)
      pending.catch(() => { if (ensured.get(topic) === pending) ensured.delete(topic) })
    }
    return pending
  }

  async function writeAll (topic: string, dls: readonly DeadLetter[], signal: AbortSignal): Promise<boolean> {
    const dl = dls[0]
    if (dl === undefined) return true
    const problem = topicNameProblem(topic)
    const sends = sendsOf(dls.map(deadLetterMessage))
    // sends already acknowledged are not written again when a later one fails and is retried
    let written = 0
    for (let failures = 0; ; failures++) {
      if (signal.aborted) return false
      try {
        if (problem !== undefined) throw new Error(`dead-letter topic name "${topic}" ${problem}`)
        const done = await unlessAborted((async () => {
          await ensureTopic(topic)
          const producer = await deps.getProducer()
          for (; written < sends.length; written++) await producer.send({ topic, acks: -1, messages: sends[written] as Message[] })
        })(), signal)
        if (done === undefined) return false
        return true
      } catch (err) {
        ensured.delete(topic)
        const delayMs = Math.min(maxMs, initialMs * Math.pow(2, Math.min(failures, 30))) * (0.8 + 0.4 * Math.random())
        log.error({
          groupId: dl.groupId,
          topic: dl.record.topic,
          partition: dl.record.partition,
          offset: dl.record.offset,
          records: dls.length,
          deadLetterTopic: topic,
          failures: failures + 1,
          retryInMs: Math.round(delayMs),
          err: message(err)
        }, 'dead-letter write failed; retrying (the record is not committed until it is written)')
        await sleep(delayMs, signal)
      }
    }
  }

  return {
    write: (topic, dl, signal) => writeAll(topic, [dl], signal),
    writeAll
  }
}
