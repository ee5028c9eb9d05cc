/** Kafka helpers of the reliability harness (a harness-side client, never the gateway's). */
import kafkajs, { type Admin, type Kafka as KafkaClient } from 'kafkajs'
import { waitUntil } from '../../scripts/lib/launch/wait.js'
import { uniqueName } from '../helpers/names.js'
import type { CountingReceiver } from './receiver.js'
import { createTopicsAndWait } from '../../src/kafka/create-topics.js'

const { Kafka, logLevel } = kafkajs

export function kafkaClient (brokers: string, clientId = 'reliability-harness'): KafkaClient {
  return new Kafka({
    clientId,
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 2000 }
  })
}

export async function withAdmin<T> (brokers: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafkaClient(brokers).admin()
  await admin.connect()
  try {
    return await fn(admin)
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

export interface TopicOptions {
  partitions: number
  replicationFactor?: number
  configs?: Record<string, string>
}

/** Creates a topic without waiting for leaders inside the request, then polls metadata until every partition has one. */
export async function createTopic (brokers: string, topic: string, opts: TopicOptions): Promise<void> {
  await withAdmin(brokers, async admin => {
    await createTopicsAndWait(admin, {
      timeout: 60_000,
      topics: [{
        topic,
        numPartitions: opts.partitions,
        ...(opts.replicationFactor !== undefined ? { replicationFactor: opts.replicationFactor } : {}),
        ...(opts.configs !== undefined ? { configEntries: Object.entries(opts.configs).map(([name, value]) => ({ name, value })) } : {})
      }]
    })
  })
}

export async function deleteTopics (brokers: string, topics: string[]): Promise<void> {
  await withAdmin(brokers, async admin => {
    const existing = new Set(await admin.listTopics())
    const present = topics.filter(t => existing.has(t))
    if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: 10_000 })
  })
}

export interface PartitionProgress { partition: number, low: number, high: number, committed: number }

/** Each partition's low/high watermarks and the group's committed offset (-1: none). */
export async function groupProgress (admin: Admin, groupId: string, topic: string): Promise<PartitionProgress[]> {
  const [offsets, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] })
  ])
  const byPartition = new Map((committed[0]?.partitions ?? []).map(p => [p.partition, Number(p.offset)]))
  return offsets
    .map(o => ({ partition: o.partition, low: Number(o.low), high: Number(o.high), committed: byPartition.get(o.partition) ?? -1 }))
    .sort((a, b) => a.partition - b.partition)
}

export interface DeadLetterRecord {
  id: number | undefined
  partition: number
  offset: number
  /** dlq-original-partition / dlq-original-offset */
  originalPartition: number
  originalOffset: number
  status: string | undefined
  error: string | undefined
}

const headerString = (v: Buffer | string | Array<Buffer | string> | undefined): string | undefined => {
  const first = Array.isArray(v) ? v[0] : v
  return first === undefined ? undefined : first.toString()
}

/** Reads the whole dead-letter topic (nothing when it does not exist). */
export async function readDeadLetters (brokers: string, topic: string, timeoutMs = 60_000): Promise<DeadLetterRecord[]> {
  const highs = await withAdmin(brokers, async admin => {
    if (!(await admin.listTopics()).includes(topic)) return undefined
    return (await admin.fetchTopicOffsets(topic)).map(o => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) }))
  })
  if (highs === undefined || highs.every(h => h.high <= h.low)) return []
  const out: DeadLetterRecord[] = []
  const seen = new Map<number, number>()
  const consumer = kafkaClient(brokers).consumer({ groupId: uniqueName('reliability-dlq-reader'), maxWaitTimeInMs: 100, sessionTimeout: 10_000 })
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        let id: number | undefined
        try {
          const v = JSON.parse(message.value?.toString('utf8') ?? 'null') as { id?: unknown } | null
          if (typeof v?.id === 'number') id = v.id
        } catch { /* not one of ours */ }
        const h = message.headers ?? {}
        out.push({
          id,
          partition,
          offset: Number(message.offset),
          originalPartition: Number(headerString(h['dlq-original-partition']) ?? -1),
          originalOffset: Number(headerString(h['dlq-original-offset']) ?? -1),
          status: headerString(h['dlq-status']),
          error: headerString(h['dlq-error'])
        })
        seen.set(partition, Math.max(seen.get(partition) ?? -1, Number(message.offset)))
      }
    })
    await waitUntil(`the whole dead-letter topic ${topic}`, () => highs.every(h => h.high <= h.low || (seen.get(h.partition) ?? -1) >= h.high - 1), timeoutMs, 50)
  } finally {
    await consumer.disconnect().catch(() => undefined)
  }
  return out
}

/**
 * Waits until a record handled after `since` (performance.now()) has had its offset committed, and returns
 * when that was seen. A commit accepted after a fault proves the consumer's membership is valid with the
 * (possibly new) coordinator: no consumer generation can end because of that fault any more, so this is the
 * end of the fault's in-flight window on the delivery side.
 */
export async function waitCommitAfter (brokers: string, groupId: string, topic: string, receiver: CountingReceiver, since: number, timeoutMs = 120_000): Promise<number> {
  return await withAdmin(brokers, async admin => await waitUntil(`a commit of a record handled after the fault (group ${groupId})`, async () => {
    const after = receiver.handled.filter(h => h.at > since)
    if (after.length === 0) return undefined
    const res = await admin.fetchOffsets({ groupId, topics: [topic] })
    const committed = new Map((res[0]?.partitions ?? []).map(p => [p.partition, Number(p.offset)]))
    return after.some(h => (committed.get(h.partition) ?? -1) > h.offset) ? performance.now() : undefined
  }, timeoutMs, 100))
}

/** Waits until no partition of `topic` has `node` as its leader or in its ISR (the cluster has healed around it). */
export async function waitIsrWithout (brokers: string, topic: string, node: number): Promise<number> {
  return await withAdmin(brokers, async admin => await waitUntil(`broker ${node} out of every ISR of ${topic}`, async () => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
    const parts = topics[0]?.partitions ?? []
    return parts.length > 0 && parts.every(p => p.leader >= 0 && p.leader !== node && !p.isr.includes(node)) ? performance.now() : undefined
  }, 120_000, 100))
}

/** The group coordinator of the cluster: the leader of __consumer_offsets' only partition (offsets.topic.num.partitions=1). */
export async function coordinatorNode (brokers: string): Promise<number> {
  return await withAdmin(brokers, async admin => {
    const { topics } = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] })
    const leader = topics[0]?.partitions[0]?.leader
    if (leader === undefined || leader < 0) throw new Error('no leader for __consumer_offsets')
    return leader
  })
}

/** Waits until every partition of every topic has a leader and its whole replica set in sync (a restarted broker caught up). */
export async function waitIsrComplete (brokers: string, timeoutMs = 180_000): Promise<number> {
  return await withAdmin(brokers, async admin => await waitUntil('every replica back in sync', async () => {
    const { topics } = await admin.fetchTopicMetadata()
    const parts = topics.flatMap(t => t.partitions)
    return parts.length > 0 && parts.every(p => p.leader >= 0 && p.isr.length === p.replicas.length) ? performance.now() : undefined
  }, timeoutMs, 200))
}
