/**
 * Offsets a pull instance asks Kafka for: the group's committed offsets, a partition's beginning and end,
 * and the offset of a timestamp. Each through a short-lived admin: kafkajs keeps every topic an admin
 * read offsets of in its metadata for good (src/topics/reader.ts), which the shared admin must not.
 */
import type { Kafka } from 'kafkajs'
import { withShortLivedAdmin } from '../topics/reader.js'
import type { TopicPartitionRef } from './types.js'

export interface PartitionOffset extends TopicPartitionRef { offset: string }

const byTopic = (partitions: TopicPartitionRef[]): Map<string, number[]> => {
  const out = new Map<string, number[]>()
  for (const p of partitions) out.set(p.topic, [...(out.get(p.topic) ?? []), p.partition])
  return out
}

/** The group's committed offsets on `topics` (`-1`: none committed), every partition. */
export async function committedOffsets (kafka: Kafka, groupId: string, topics: string[]): Promise<PartitionOffset[]> {
  if (topics.length === 0) return []
  return await withShortLivedAdmin(kafka, async admin => {
    const found = await admin.fetchOffsets({ groupId, topics })
    return found.flatMap(t => t.partitions.map(p => ({ topic: t.topic, partition: p.partition, offset: p.offset })))
  })
}

/** Each partition's earliest (`beginning`) or next-to-be-written (`end`) offset. */
export async function edgeOffsets (kafka: Kafka, partitions: TopicPartitionRef[], edge: 'beginning' | 'end'): Promise<PartitionOffset[]> {
  return await withShortLivedAdmin(kafka, async admin => {
    const out: PartitionOffset[] = []
    for (const [topic, wanted] of byTopic(partitions)) {
      const offsets = await admin.fetchTopicOffsets(topic)
      for (const o of offsets) if (wanted.includes(o.partition)) out.push({ topic, partition: o.partition, offset: edge === 'beginning' ? o.low : o.high })
    }
    return out
  })
}

/** The first offset at or after `timestamp` (ms) of each partition (the end when none is). */
export async function timestampOffsets (kafka: Kafka, wanted: Array<TopicPartitionRef & { timestamp: number }>): Promise<PartitionOffset[]> {
  return await withShortLivedAdmin(kafka, async admin => {
    const out: PartitionOffset[] = []
    for (const w of wanted) {
      const offsets = await admin.fetchTopicOffsetsByTimestamp(w.topic, w.timestamp)
      const hit = offsets.find(o => o.partition === w.partition)
      if (hit !== undefined) out.push({ topic: w.topic, partition: w.partition, offset: hit.offset })
    }
    return out
  })
}
