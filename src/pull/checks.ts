/** What a subscription or assignment may name: topics and partitions that exist (400/404 naming the field). */
import { AppError } from '../errors.js'
import type { TopicMetadataCache } from '../kafka/topics.js'
import type { PullSource, TopicPartitionRef } from './types.js'

export function sourceTopics (source: PullSource): string[] {
  if (source.kind === 'subscription') return source.topics
  if (source.kind === 'assignment') return [...new Set(source.partitions.map(p => p.topic))]
  return []
}

async function partitionsOf (topics: TopicMetadataCache, topic: string, field: string): Promise<number[]> {
  let found: number[] | undefined
  try {
    found = await topics.partitions(topic)
  } catch (err) {
    throw new AppError(503, 'GW_KAFKA_UNAVAILABLE', 'Kafka is unavailable: cannot check the topics', { cause: err, retryAfterSeconds: 1 })
  }
  if (found === undefined) throw new AppError(404, 'GW_TOPIC_NOT_FOUND', `topic "${topic}" does not exist`, { details: [{ field, rule: 'topicExists', message: `no topic "${topic}"` }] })
  return found
}

/** `field`: where the names are (`body/topics`, each named by index; or one path parameter). */
export async function checkTopics (topics: TopicMetadataCache, names: string[], field?: string): Promise<void> {
  for (const [i, t] of names.entries()) await partitionsOf(topics, t, field ?? `body/topics/${i}`)
}

export async function checkPartitions (topics: TopicMetadataCache, partitions: TopicPartitionRef[]): Promise<void> {
  for (const [i, p] of partitions.entries()) {
    const found = await partitionsOf(topics, p.topic, `body/partitions/${i}/topic`)
    if (!found.includes(p.partition)) {
      const message = `topic "${p.topic}" has ${found.length} partitions (0-${found.length - 1})`
      throw new AppError(400, 'GW_PARTITION_OUT_OF_RANGE', `body/partitions/${i}/partition: ${message}`, { details: [{ field: `body/partitions/${i}/partition`, rule: 'partitionRange', message }] })
    }
  }
}
