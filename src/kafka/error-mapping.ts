/**
 * kafkajs failures → the gateway's error model. A produce never answers 500 for something Kafka said:
 * unreachable → 503 (retry hint), timed out → 504, rejected → the status that says why.
 */
import { AppError, kafkaUnavailable } from '../errors.js'
import { errorChain as chain } from './error-chain.js'

const str = (v: unknown): string => typeof v === 'string' ? v : ''

const UNREACHABLE_NAMES = new Set([
  'KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSBrokerNotFound', 'KafkaJSNoBrokerAvailableError',
  'KafkaJSMetadataNotLoaded', 'KafkaJSTopicMetadataNotLoaded', 'KafkaJSGroupCoordinatorNotFound'
])
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN'])
/** Broker error types meaning "the cluster cannot take this right now": retriable, 503. */
const UNAVAILABLE_TYPES = new Set([
  'NOT_ENOUGH_REPLICAS', 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER', 'BROKER_NOT_AVAILABLE', 'REPLICA_NOT_AVAILABLE', 'NETWORK_EXCEPTION', 'KAFKA_STORAGE_ERROR',
  'COORDINATOR_NOT_AVAILABLE', 'THROTTLING_QUOTA_EXCEEDED'
])

export function isKafkaUnreachable (err: unknown): boolean {
  return chain(err).some(e =>
    UNREACHABLE_NAMES.has(str(e.name)) ||
    UNREACHABLE_CODES.has(str(e.code)) ||
    /producer is disconnect|connection (?:is )?closed|closed connection|connection timeout|connection error|failed to connect|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EPIPE/i.test(str(e.message)))
}

/** The Kafka protocol error type (e.g. MESSAGE_TOO_LARGE) anywhere in the chain. */
export function kafkaErrorType (err: unknown): string | undefined {
  for (const e of chain(err)) {
    const type = str(e.type)
    if (type !== '') return type
  }
  return undefined
}

/** Kafka refused the gateway's own SASL credentials: a dependency failure (503), not the caller's fault. */
const SASL_TYPES = new Set(['SASL_AUTHENTICATION_FAILED', 'ILLEGAL_SASL_STATE', 'UNSUPPORTED_SASL_MECHANISM'])

export function isSaslRefusal (err: unknown): boolean {
  // kafkajs' wrappers copy the message, not the name: "SASL <mechanism> authentication failed: ..."
  return chain(err).some(e => str(e.name) === 'KafkaJSSASLAuthenticationError' || SASL_TYPES.has(str(e.type)) ||
    /^SASL \S+(?: \S+)? authentication failed/.test(str(e.message)))
}

const TIMEOUT_NAMES = new Set(['KafkaJSRequestTimeoutError', 'KafkaJSTimeout', 'KafkaJSLockTimeout'])

/** Whether Kafka, or kafkajs waiting for it, timed out. */
export function isKafkaTimeout (err: unknown): boolean {
  return kafkaErrorType(err) === 'REQUEST_TIMED_OUT' || chain(err).some(e => TIMEOUT_NAMES.has(str(e.name)))
}

export interface MapContext {
  /** Topic(s) of the failed request, for messages. */
  topics?: string[]
}

/** Maps any failure while producing; AppErrors pass through, anything unrecognised becomes a 500 (its cause logged, never shown). */
export function mapKafkaError (err: unknown, ctx: MapContext = {}): AppError {
  if (err instanceof AppError) return err
  const type = kafkaErrorType(err)
  const links = chain(err)
  const topics = ctx.topics !== undefined && ctx.topics.length > 0 ? ` (topic ${ctx.topics.map(t => `"${t}"`).join(', ')})` : ''
  const detail = (rule: string, message: string): { details: Array<{ rule: string, message: string }> } => ({ details: [{ rule, message }] })

  if (isSaslRefusal(err)) {
    return new AppError(503, 'GW_KAFKA_UNAVAILABLE', `Kafka refused the gateway's SASL credentials (KAFKA_SASL_*)${topics}: ${str(links[0]?.message)}`,
      { cause: err, retryAfterSeconds: 1, ...detail('kafkaSaslAuthentication', str(links[0]?.message)) })
  }
  if (isKafkaTimeout(err)) {
    return new AppError(504, 'GW_KAFKA_TIMEOUT', `Kafka did not answer in time${topics}; the records may or may not have been written`,
      { cause: err, retriable: true, ...detail('kafkaTimeout', str(links[0]?.message)) })
  }
  if (type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE') {
    return new AppError(413, 'GW_PAYLOAD_TOO_LARGE', `Kafka rejected the records as too large${topics} (${type}; see the topic's max.message.bytes)`,
      { cause: err, retriable: false, details: [{ field: 'body', rule: 'kafkaMessageSize', message: type }] })
  }
  if (type !== undefined && UNAVAILABLE_TYPES.has(type)) {
    return new AppError(503, 'GW_KAFKA_UNAVAILABLE', `Kafka cannot take the records now${topics}: ${type}`,
      { cause: err, retryAfterSeconds: 1, ...detail('kafkaUnavailable', type) })
  }
  if (type === 'UNKNOWN_TOPIC_OR_PARTITION') {
    return new AppError(404, 'GW_TOPIC_NOT_FOUND', `Kafka does not know the topic or partition${topics}`,
      { cause: err, details: [{ field: 'body/topic', rule: 'topicExists', message: type }] })
  }
  if (type === 'TOPIC_AUTHORIZATION_FAILED' || type === 'CLUSTER_AUTHORIZATION_FAILED') {
    return new AppError(403, 'GW_KAFKA_REJECTED', `Kafka refused this gateway's credentials for the write${topics}: ${type}`,
      { cause: err, ...detail('kafkaAuthorization', type) })
  }
  if (type === 'INVALID_RECORD' || type === 'CORRUPT_MESSAGE' || type === 'INVALID_TIMESTAMP' || type === 'UNSUPPORTED_COMPRESSION_TYPE' ||
      type === 'INVALID_REQUIRED_ACKS' || type === 'INVALID_TOPIC_EXCEPTION' || type === 'POLICY_VIOLATION') {
    return new AppError(422, 'GW_KAFKA_REJECTED', `Kafka rejected the records${topics}: ${type}`,
      { cause: err, retriable: false, ...detail('kafkaRejected', type) })
  }
  if (isKafkaUnreachable(err)) {
    return kafkaUnavailable(`Kafka is unreachable${topics}; retry later`, err)
  }
  if (type !== undefined) {
    return new AppError(502, 'GW_KAFKA_REJECTED', `Kafka rejected the request${topics}: ${type}`,
      { cause: err, ...detail('kafkaRejected', type) })
  }
  if (links.some(e => str(e.name).startsWith('KafkaJS'))) {
    return new AppError(502, 'GW_KAFKA_REJECTED', `the Kafka client failed${topics}: ${str(links[0]?.message)}`,
      { cause: err, ...detail('kafkaClient', str(links[0]?.message)) })
  }
  return new AppError(500, 'GW_INTERNAL', 'internal error', { cause: err })
}
