import t from 'tap'
import { createRequire } from 'node:module'
import { AppError } from '../../src/errors.js'
import { isKafkaUnreachable, mapKafkaError } from '../../src/kafka/error-mapping.js'

// The errors kafkajs itself raises: protocol errors come from its own error-code table.
const { createErrorFromCode } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as { createErrorFromCode: (code: number) => Error }
// kafkajs' error classes, constructed as kafkajs constructs them (its type declarations omit some)
type ErrorClass = new (...args: unknown[]) => Error
const {
  KafkaJSConnectionError, KafkaJSConnectionClosedError, KafkaJSError, KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded, KafkaJSRequestTimeoutError, KafkaJSLockTimeout, KafkaJSSASLAuthenticationError
} = createRequire(import.meta.url)('kafkajs') as Record<string, ErrorClass>

const retried = (e: Error): Error => new KafkaJSNumberOfRetriesExceeded(e, { retryCount: 3, retryTime: 1000 })

t.test('kafkajs failures map to the gateway error model', async t => {
  const cases: Array<[string, unknown, number, string, RegExp?]> = [
    ['connection refused', new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092', { broker: '127.0.0.1:9092', code: 'ECONNREFUSED' }), 503, 'GW_KAFKA_UNAVAILABLE'],
    ['retries over a connection error', retried(new KafkaJSConnectionError('Connection timeout')), 503, 'GW_KAFKA_UNAVAILABLE'],
    ['connection closed', new KafkaJSConnectionClosedError('Closed connection', { host: 'h', port: 1 }), 503, 'GW_KAFKA_UNAVAILABLE'],
    ['non-retriable wrapping a connection error (cluster connect)', new KafkaJSNonRetriableError(new KafkaJSConnectionError('Connection error')), 503, 'GW_KAFKA_UNAVAILABLE'],
    ['producer disconnected', new KafkaJSError('The producer is disconnected'), 503, 'GW_KAFKA_UNAVAILABLE'],
    ['request timeout', new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out', { broker: 'b' }), 504, 'GW_KAFKA_TIMEOUT'],
    ['retries over request timeouts', retried(new KafkaJSRequestTimeoutError('Request Produce timed out')), 504, 'GW_KAFKA_TIMEOUT'],
    ['lock timeout', new KafkaJSLockTimeout('Timeout while acquiring lock'), 504, 'GW_KAFKA_TIMEOUT'],
    ['REQUEST_TIMED_OUT', createErrorFromCode(7), 504, 'GW_KAFKA_TIMEOUT'],
    ['MESSAGE_TOO_LARGE', createErrorFromCode(10), 413, 'GW_PAYLOAD_TOO_LARGE', /MESSAGE_TOO_LARGE/],
    ['RECORD_LIST_TOO_LARGE', createErrorFromCode(18), 413, 'GW_PAYLOAD_TOO_LARGE'],
    ['NOT_ENOUGH_REPLICAS after retries', retried(createErrorFromCode(19)), 503, 'GW_KAFKA_UNAVAILABLE', /NOT_ENOUGH_REPLICAS/],
    ['NOT_ENOUGH_REPLICAS_AFTER_APPEND', createErrorFromCode(20), 503, 'GW_KAFKA_UNAVAILABLE'],
    ['NOT_LEADER_FOR_PARTITION after retries', retried(createErrorFromCode(6)), 503, 'GW_KAFKA_UNAVAILABLE'],
    ['UNKNOWN_TOPIC_OR_PARTITION', retried(createErrorFromCode(3)), 404, 'GW_TOPIC_NOT_FOUND'],
    ['TOPIC_AUTHORIZATION_FAILED', createErrorFromCode(29), 403, 'GW_KAFKA_REJECTED'],
    ['INVALID_RECORD', createErrorFromCode(87), 422, 'GW_KAFKA_REJECTED'],
    ['CORRUPT_MESSAGE', createErrorFromCode(2), 422, 'GW_KAFKA_REJECTED'],
    ['SASL refused (the gateway\'s own credentials)', new KafkaJSNonRetriableError(new KafkaJSSASLAuthenticationError('SASL SCRAM SHA512 authentication failed: Authentication failed')), 503, 'GW_KAFKA_UNAVAILABLE', /SASL/],
    ['SASL_AUTHENTICATION_FAILED', createErrorFromCode(58), 503, 'GW_KAFKA_UNAVAILABLE'],
    ['another broker error', createErrorFromCode(45), 502, 'GW_KAFKA_REJECTED'],
    ['a kafkajs client error', new KafkaJSNonRetriableError('Invalid message without value'), 502, 'GW_KAFKA_REJECTED'],
    ['not a Kafka error at all', new TypeError('boom'), 500, 'GW_INTERNAL']
  ]
  for (const [name, err, status, code, message] of cases) {
    const mapped = mapKafkaError(err, { topics: ['orders'] })
    t.type(mapped, AppError)
    t.equal(mapped.statusCode, status, `${name}: status`)
    t.equal(mapped.code, code, `${name}: code`)
    if (message !== undefined) t.match(mapped.message, message, `${name}: message`)
    if (status === 503) t.equal(mapped.retryAfterSeconds, 1, `${name}: retry hint`)
    if (status < 500 || status === 502) t.equal(mapped.cause, err, `${name}: cause kept for the log`)
  }
  const passThrough = new AppError(404, 'GW_TOPIC_NOT_FOUND', 'x')
  t.equal(mapKafkaError(passThrough), passThrough)
  t.ok(isKafkaUnreachable(retried(new KafkaJSConnectionError('x'))))
  t.notOk(isKafkaUnreachable(createErrorFromCode(10)))
})
