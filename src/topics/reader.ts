/**
 * Reading records by offset without a consumer group anyone else sees: kafkajs has no manual assign(),
 * so each read joins a fresh group named `kafka-http-gateway.reader.<clientId>.<uuid>` with one member
 * that is assigned just the partition (the declared-partitions assigner), never commits, and is left and
 * deleted before the answer. A join costs the broker's group.initial.rebalance.delay.ms (3 s by default).
 *
 * Short-lived clients also read offsets: kafkajs adds every topic an admin reads offsets of to that
 * admin's metadata for good, and a deleted one then breaks all its requests (src/kafka/core.ts), so the
 * shared admin never does.
 */
import { randomUUID } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs'
import type { Logger } from 'pino'
import { AppError } from '../errors.js'
import { declaredPartitionAssigner } from '../kafka/partition-assigner.js'
import { toConsumedRecord } from '../webhooks/envelope.js'
import type { ConsumedRecord } from '../webhooks/types.js'

export const READER_GROUP_PREFIX = 'kafka-http-gateway.reader.'
export const MAX_READ_RECORDS = 1000
/** A read stops once its keys and values add up to this much (after at least one record). */
export const MAX_READ_BYTES = 8 * 1024 * 1024
export const READ_TIMEOUT_MS = 10_000

/** Requests of short-lived clients fail within about a second when Kafka is unreachable, like the shared admin's. */
const RETRY = { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 }

/** Runs `fn` with an admin of its own, disconnected afterwards. */
export async function withShortLivedAdmin<T> (kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin({ retry: RETRY })
  try {
    await admin.connect()
    return await fn(admin)
  } finally {
    await admin.disconnect().catch(() => {})
  }
}

export interface ReaderDeps {
  kafka: Kafka
  clientId: string
  logger: Logger
  timeoutMs?: number
}

export interface ReadRange {
  topic: string
  partition: number
  /** First offset to return (at least the partition's earliest). */
  start: bigint
  /** The partition's latest offset when the read began: the read ends there. */
  latest: bigint
  limit: number
}

/** One read: what it collected and how far it got. */
interface ReadState {
  readonly range: ReadRange
  readonly records: ConsumedRecord[]
  /** The offset after the last record collected or skipped (control records, compacted gaps). */
  next: bigint
  bytes: number
  done: boolean
  /** The group formed (so there is one to delete). */
  joined: boolean
  finish: () => void
}

const full = (state: ReadState): boolean => state.records.length >= state.range.limit || state.bytes >= MAX_READ_BYTES

function collect (state: ReadState, messages: KafkaMessage[]): void {
  const { topic, partition } = state.range
  for (const m of messages) {
    const offset = BigInt(m.offset)
    if (offset < state.next) continue
    if (full(state)) return
    state.records.push(toConsumedRecord(topic, partition, m))
    state.bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0)
    state.next = offset + 1n
  }
}

/** After every batch the consumer processed, records or none (kafkajs skips eachBatch when all were filtered). */
function advance (state: ReadState, lastOffset: string | undefined): void {
  if (!full(state) && lastOffset !== undefined && BigInt(lastOffset) + 1n > state.next) state.next = BigInt(lastOffset) + 1n
  if (!state.done && (full(state) || state.next >= state.range.latest)) {
    state.done = true
    state.finish()
  }
}

function readerConsumer (deps: ReaderDeps, range: ReadRange, groupId: string): Consumer {
  return deps.kafka.consumer({
    groupId,
    partitionAssigners: [declaredPartitionAssigner({ [range.topic]: [range.partition] })],
    retry: { ...RETRY, restartOnFailure: async () => false },
    allowAutoTopicCreation: false,
    sessionTimeout: 10_000,
    heartbeatInterval: 3000,
    maxWaitTimeInMs: 100
  })
}

/** Wires the consumer's events into `state`: resolves once the read is complete, rejects when the consumer crashes. */
function watch (consumer: Consumer, state: ReadState): Promise<void> {
  const completed = new Promise<void>((resolve, reject) => {
    state.finish = resolve
    consumer.on(consumer.events.CRASH, ({ payload }) => { reject(payload.error) })
  })
  completed.catch(() => {}) // raced by consume(); a crash after a failed connect has no one else to tell
  consumer.on(consumer.events.GROUP_JOIN, () => { state.joined = true })
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => { if (payload.partition === state.range.partition) advance(state, payload.lastOffset) })
  return completed
}

async function consume (consumer: Consumer, state: ReadState, completed: Promise<void>): Promise<'done'> {
  const { topic, partition, start } = state.range
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }: EachBatchPayload) => { if (batch.partition === partition) collect(state, batch.messages) }
  })
  // kafkajs drops what it fetched before a seek; offsets below `start` are skipped anyway
  consumer.seek({ topic, partition, offset: start.toString() })
  await completed
  return 'done'
}

const readTimeout = ({ topic, partition }: ReadRange, ms: number): AppError =>
  new AppError(504, 'GW_KAFKA_TIMEOUT', `Kafka handed over no record of topic "${topic}" partition ${partition} within ${ms} ms`,
    { retriable: true, details: [{ rule: 'readTimeout', message: `no record within ${ms} ms` }] })

/**
 * Reads `range` with a one-member ephemeral group; deletes the group (through `admin`) before returning.
 * At the timeout it returns what it has, or a 504 when that is nothing.
 */
export async function readPartition (deps: ReaderDeps, admin: Admin, range: ReadRange): Promise<{ records: ConsumedRecord[], nextOffset: bigint }> {
  const groupId = `${READER_GROUP_PREFIX}${deps.clientId}.${randomUUID()}`
  const state: ReadState = { range, records: [], next: range.start, bytes: 0, done: false, joined: false, finish: () => {} }
  const consumer = readerConsumer(deps, range, groupId)
  const completed = watch(consumer, state)
  const timeoutMs = deps.timeoutMs ?? READ_TIMEOUT_MS
  const timer = new AbortController()
  try {
    const outcome = await Promise.race([consume(consumer, state, completed), delay(timeoutMs, 'timeout' as const, { signal: timer.signal, ref: false })])
    if (outcome === 'timeout' && state.records.length === 0) throw readTimeout(range, timeoutMs)
    return { records: state.records, nextOffset: state.next }
  } finally {
    timer.abort()
    await release(deps.logger, consumer, admin, groupId, state.joined)
  }
}

/** Leaves the group, then deletes it, so no reader group outlives its request. */
async function release (logger: Logger, consumer: Consumer, admin: Admin, groupId: string, joined: boolean): Promise<void> {
  await consumer.disconnect().catch((err: unknown) => { logger.warn({ err, groupId }, 'disconnecting a topic reader failed') })
  // a group that never formed has nothing to delete
  if (joined) await admin.deleteGroups([groupId]).catch((err: unknown) => { logger.warn({ err, groupId }, 'deleting a topic reader group failed') })
}
