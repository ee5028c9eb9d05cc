/**
 * The kafkajs consumer behind one stream, started and stopped safely: a stream can close (the client
 * leaves) while its consumer is still connecting, so the stop waits for the start before disconnecting,
 * and a start that finds the stream closed stops at once. A crash (kafkajs gives up retrying) ends the
 * stream: the client reconnects, with its Last-Event-ID, to a fresh consumer.
 */
import type { Consumer, ConsumerConfig, EachBatchPayload, Kafka } from 'kafkajs'
import { feedBatches, type Positions } from './feed.js'
import type { Logger } from 'pino'
import type { SseWriter } from './writer.js'

/** Fast retries (a dead cluster ends the stream within seconds) and no restart: the client's reconnect is the restart. */
const RETRY = { retries: 2, initialRetryTime: 100, maxRetryTime: 1000, restartOnFailure: async () => false }

export const STREAM_CONSUMER: Omit<ConsumerConfig, 'groupId'> = {
  retry: RETRY,
  allowAutoTopicCreation: false,
  sessionTimeout: 10_000,
  heartbeatInterval: 3000,
  // an idle fetch waits this long (a record arriving ends the wait at once); a partition resumed after
  // backpressure waits for the fetch in flight, so this also bounds that gap
  maxWaitTimeInMs: 250
}

export interface StreamConsumerSpec {
  kafka: Kafka
  config: ConsumerConfig
  topics: string[]
  fromBeginning: boolean
  /** Where the stream is (src/sse/feed.ts). */
  positions: Positions
  /** After a batch's records were written (group streams commit here). */
  afterBatch?: (consumer: Consumer, topic: string, partition: number, next: bigint) => Promise<void>
  /** Right after run(): where to start (topic streams seek every partition). */
  started?: (consumer: Consumer) => void
  /** After the disconnect (topic streams delete their group). */
  stopped?: () => Promise<void>
  writer: SseWriter
  logger: Logger
}

export interface StreamConsumer {
  /** Resolves once the consumer runs; rejects (after ending the stream) when it could not start. */
  ready: Promise<void>
  /** Disconnects (after the start, when still starting) and runs `stopped`; idempotent. Also run when the stream closes. */
  stop: () => Promise<void>
}

function feedOf (spec: StreamConsumerSpec, consumer: Consumer): (payload: EachBatchPayload) => Promise<void> {
  const { afterBatch } = spec
  return feedBatches({
    consumer,
    writer: spec.writer,
    logger: spec.logger,
    positions: spec.positions,
    ...(afterBatch !== undefined ? { afterBatch: async (topic: string, partition: number, next: bigint) => { await afterBatch(consumer, topic, partition, next) } } : {})
  })
}

/** Starts the consumer for `writer`. */
export function startStreamConsumer (spec: StreamConsumerSpec): StreamConsumer {
  const { writer, logger } = spec
  const consumer = spec.kafka.consumer(spec.config)
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    logger.warn({ err: payload.error, groupId: spec.config.groupId }, 'an SSE stream\'s consumer crashed: the stream ends')
    writer.end()
  })
  const starting = (async () => {
    await consumer.connect()
    await consumer.subscribe({ topics: spec.topics, fromBeginning: spec.fromBeginning })
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: feedOf(spec, consumer) })
    spec.started?.(consumer)
  })()
  let stopping: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      await starting.catch(() => {})
      await consumer.disconnect().catch((err: unknown) => { logger.warn({ err, groupId: spec.config.groupId }, 'disconnecting an SSE stream\'s consumer failed') })
      await spec.stopped?.()
    })()
    await stopping
  }
  writer.onClose(() => { void stop() })
  const ready = starting.catch(async (err: unknown) => {
    writer.end()
    await stop()
    throw err
  })
  return { ready, stop }
}
