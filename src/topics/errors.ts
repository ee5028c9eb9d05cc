/**
 * kafkajs failures of topic administration and reads → the gateway's error model: unreachable → 503
 * naming Kafka, timed out → 504, an unknown topic → 404, anything else Kafka said → 502 with its type.
 */
import { AppError, kafkaUnavailable } from '../errors.js'
import { errorChain } from '../kafka/error-chain.js'
import { topicNotFound } from '../kafka/topics.js'
import { isKafkaTimeout, isKafkaUnreachable, kafkaErrorType, mapKafkaError } from '../kafka/error-mapping.js'

/** 404 for a topic named in the path. */
export const unknownTopic = (topic: string): AppError => topicNotFound(topic, 'params/topic', '')

/** What Kafka said about `type`, as kafkajs words it (Kafka's error description), or the type itself. */
export function kafkaMessage (err: unknown, type: string): string {
  const link = errorChain(err).find(e => e.type === type)
  return typeof link?.message === 'string' && link.message !== '' ? link.message : type
}

/** Maps a failure of `what` (e.g. `deleting topic "x"`); an unknown topic is a 404 when the operation names one in its path. */
export function mapTopicError (err: unknown, what: string, topic?: string): AppError {
  if (err instanceof AppError) return err
  const type = kafkaErrorType(err)
  if (type === 'UNKNOWN_TOPIC_OR_PARTITION' && topic !== undefined) return unknownTopic(topic)
  if (isKafkaUnreachable(err)) return kafkaUnavailable(`Kafka is unreachable (${what}); retry later`, err)
  if (isKafkaTimeout(err)) {
    return new AppError(504, 'GW_KAFKA_TIMEOUT', `Kafka did not answer in time (${what})`,
      { cause: err, retriable: true, details: [{ rule: 'kafkaTimeout', message: type ?? 'timeout' }] })
  }
  return mapKafkaError(err, topic !== undefined ? { topics: [topic] } : {})
}
