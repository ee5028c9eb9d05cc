/** Whether a kafkajs failure says topic metadata was unknown or stale: what a send fails with when a topic is gone. */
import { errorChain } from './error-chain.js'

/** Kafka error types and kafkajs error names that say a client's topic metadata could not be had. */
const STALE_METADATA_TYPES = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION', 'NOT_LEADER_OR_FOLLOWER'])
const STALE_METADATA_NAMES = new Set(['KafkaJSMetadataNotLoaded', 'KafkaJSTopicMetadataNotLoaded'])

/**
 * Whether `err` (or an error it wraps: kafkajs retries wrap the last failure in `cause`/`originalError`)
 * says topic metadata was unknown or stale — what a send fails with when a topic is gone.
 */
export function isStaleMetadataError (err: unknown): boolean {
  return errorChain(err).some(e => (typeof e.type === 'string' && STALE_METADATA_TYPES.has(e.type)) ||
    (typeof e.name === 'string' && STALE_METADATA_NAMES.has(e.name)))
}
