import type { Admin } from 'kafkajs'
import { AppError, fieldError } from '../errors.js'

/** Kafka's topic naming rules; returns the rule broken, or undefined when the name is legal. */
export function topicNameProblem (name: string): string | undefined {
  if (name.length === 0) return 'must not be empty'
  if (name === '.' || name === '..') return 'must not be "." or ".."'
  if (name.length > 249) return 'must be at most 249 characters'
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return 'may contain only ASCII letters, digits, ".", "_" and "-"'
  return undefined
}

export function assertTopicName (field: string, name: string): void {
  const problem = topicNameProblem(name)
  if (problem !== undefined) throw fieldError(field, 'topicName', `topic name ${problem}`)
}

export interface TopicMetadataCache {
  /** Partition ids of `topic`, or undefined when the topic does not exist. */
  partitions (topic: string): Promise<number[] | undefined>
  /** Forget cached metadata (after creating a topic, or when a produce says the metadata was stale). */
  invalidate (topic?: string): void
}

/**
 * Topic → partitions, cached for `ttlMs`. Misses read the metadata of all topics: a metadata request that
 * names a topic would auto-create it on brokers with auto.create.topics.enable=true.
 */
export function createTopicMetadataCache (getAdmin: () => Promise<Admin>, ttlMs = 5000): TopicMetadataCache {
  let snapshot: { at: number, topics: Map<string, number[]> } | undefined
  let pending: Promise<Map<string, number[]>> | undefined

  async function refresh (): Promise<Map<string, number[]>> {
    pending ??= (async () => {
      try {
        const admin = await getAdmin()
        const { topics } = await admin.fetchTopicMetadata()
        const map = new Map(topics.map(t => [t.name, t.partitions.map(p => p.partitionId).sort((a, b) => a - b)]))
        snapshot = { at: Date.now(), topics: map }
        return map
      } finally {
        pending = undefined
      }
    })()
    return await pending
  }

  return {
    async partitions (topic) {
      if (snapshot !== undefined && Date.now() - snapshot.at < ttlMs) {
        const hit = snapshot.topics.get(topic)
        if (hit !== undefined) return hit
      }
      // an unknown topic is re-checked at once: it may have been created since the snapshot
      return (await refresh()).get(topic)
    },
    invalidate () { snapshot = undefined }
  }
}

const AUTO_CREATE_HINT = ' (set AUTO_CREATE_TOPICS=true to create topics on first produce)'

/** 404 for a topic the cluster lacks; `hint` follows the message (by default: how produce could create it). */
export const topicNotFound = (topic: string, field = 'body/topic', hint = AUTO_CREATE_HINT): AppError =>
  new AppError(404, 'GW_TOPIC_NOT_FOUND', `topic "${topic}" does not exist${hint}`,
    { details: [{ field, rule: 'topicExists', message: `topic "${topic}" does not exist` }] })

export const partitionOutOfRange = (field: string, topic: string, partition: number, count: number): AppError =>
  new AppError(400, 'GW_PARTITION_OUT_OF_RANGE',
    `${field}: partition ${partition} does not exist: topic "${topic}" has ${count} partition${count === 1 ? '' : 's'} (0-${count - 1})`,
    { details: [{ field, rule: 'partitionRange', message: `topic "${topic}" has ${count} partitions`, partitionCount: count }] })

/** Kafka's own topics (`__consumer_offsets`, `__transaction_state`) and, by the same convention, any name starting with `__`. */
export const isInternalTopic = (name: string): boolean => name.startsWith('__')
