/** Shared by the produce tests: topics on the real broker, and reading records back with a real consumer. */
import type { FastifyInstance } from 'fastify'
import type { Consumer, IHeaders, KafkaMessage, PartitionAssigner } from 'kafkajs'
import type { Test } from 'tap'
import { uniqueName, waitFor } from '../helpers/build.js'
import { createTopicsAndWait } from '../../src/kafka/create-topics.js'

export interface ReadRecord {
  topic: string
  partition: number
  offset: string
  key: Buffer | null
  value: Buffer | null
  headers: Record<string, string>
  /** The writing producer's id from the record batch: -1 unless an idempotent producer wrote it. */
  producerId: string
}

export async function createTopic (app: FastifyInstance, topic: string, numPartitions = 1, configEntries?: Array<{ name: string, value: string }>): Promise<void> {
  const admin = await app.kafka.connectedAdmin()
  await createTopicsAndWait(admin, { topics: [{ topic, numPartitions, ...(configEntries !== undefined ? { configEntries } : {}) }] })
}

/** Records in the topic (high watermark minus low, summed over partitions). */
export async function recordCount (app: FastifyInstance, topic: string): Promise<number> {
  const admin = await app.kafka.connectedAdmin()
  const offsets = await admin.fetchTopicOffsets(topic)
  return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)
}

function headersOf (headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v !== undefined) out[k] = Array.isArray(v) ? v.map(x => x.toString()).join(',') : v.toString()
  }
  return out
}

function readRecord (topic: string, partition: number, message: KafkaMessage): ReadRecord {
  const producerId = String((message as { batchContext?: { producerId?: unknown } }).batchContext?.producerId ?? '-1')
  return { topic, partition, offset: message.offset, key: message.key, value: message.value, headers: headersOf(message.headers), producerId }
}

/**
 * Reads `count` records of `topics` from the beginning with a fresh consumer group, then checks the
 * topics hold exactly `count` records in total (so nothing extra was written).
 */
export async function readRecords (t: Test, app: FastifyInstance, topics: string | string[], count: number, timeoutMs = 30_000): Promise<ReadRecord[]> {
  const list = Array.isArray(topics) ? topics : [topics]
  const consumer = app.kafka.kafka.consumer({ groupId: uniqueName('read'), maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 1000 })
  t.teardown(() => consumer.disconnect())
  const seen: ReadRecord[] = []
  await consumer.connect()
  await consumer.subscribe({ topics: list, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      seen.push(readRecord(topic, partition, message))
    }
  })
  await waitFor(`${count} records of ${list.join(', ')}`, () => seen.length >= count, timeoutMs)
  await consumer.disconnect()
  let total = 0
  for (const topic of list) total += await recordCount(app, topic)
  if (total !== count) throw new Error(`expected ${count} records in ${list.join(', ')}, the topics hold ${total}`)
  return seen
}

/** The record at topic/partition/offset among `records` (throws when absent). */
export function at (records: ReadRecord[], partition: number, offset: string, topic?: string): ReadRecord {
  const r = records.find(x => x.partition === partition && x.offset === offset && (topic === undefined || x.topic === topic))
  if (r === undefined) throw new Error(`no record at ${topic ?? '*'}/${partition}/${offset}`)
  return r
}

/** A consumer group member (joined, with its member id), e.g. to stand for a syrup-kafka process. */
export async function joinGroup (t: Test, app: FastifyInstance, opts: { groupId: string, topic: string, assigner?: PartitionAssigner, onMessage?: (r: ReadRecord) => void }): Promise<{ consumer: Consumer, memberId: string, leaderId: string }> {
  const consumer = app.kafka.kafka.consumer({
    groupId: opts.groupId,
    maxWaitTimeInMs: 100,
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
    ...(opts.assigner !== undefined ? { partitionAssigners: [opts.assigner] } : {})
  })
  t.teardown(() => consumer.disconnect())
  let joined: { memberId: string, leaderId: string } | undefined
  consumer.on(consumer.events.GROUP_JOIN, e => { joined = { memberId: e.payload.memberId, leaderId: e.payload.leaderId } })
  await consumer.connect()
  await consumer.subscribe({ topic: opts.topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      opts.onMessage?.(readRecord(topic, partition, message))
    }
  })
  const j = await waitFor('group join', () => joined, 30_000)
  return { consumer, ...j }
}
