/**
 * GET /consumer-groups/{groupId}/events: a committed consumer group as SSE. The stream is one member of
 * the Kafka group `groupId` (kafkajs' round-robin assigner: several streams of one group share its
 * partitions); after each batch it commits the offsets of what it wrote to the socket, so the next stream
 * of the group — on any instance — goes on from there. A record written but lost with the connection is
 * not sent again (at most once past the socket); the topic stream with Last-Event-ID is the exact resume.
 * The group is not deleted when the stream closes: its commits are its position.
 */
import type { Kafka } from 'kafkajs'
import type { Logger } from 'pino'
import { AppError, fieldError } from '../errors.js'
import { STREAM_CONSUMER, startStreamConsumer, type StreamConsumer } from './consumer.js'
import type { StreamFrom } from './topic-stream.js'
import type { SseWriter } from './writer.js'

/** Group ids the gateway uses for itself (reader, stream and instance groups). */
const RESERVED_PREFIX = 'kafka-http-gateway.'

/** Refuses group ids the gateway keeps for itself, and groups defined as webhook consumers (`isDefined`). */
export async function assertStreamableGroup (groupId: string, isDefined: (groupId: string) => Promise<boolean>): Promise<void> {
  if (groupId.startsWith(RESERVED_PREFIX)) {
    throw fieldError('params/groupId', 'reservedPrefix', `group ids starting with "${RESERVED_PREFIX}" are the gateway's own`)
  }
  if (await isDefined(groupId)) {
    throw new AppError(409, 'GW_CONFLICT', `consumer group "${groupId}" is defined as a webhook consumer (POST /consumer-groups): a stream would take its partitions`,
      { details: [{ field: 'params/groupId', rule: 'notDefined', message: `group "${groupId}" delivers to a webhook` }] })
  }
}

export interface GroupStreamDeps {
  kafka: Kafka
  logger: Logger
}

/** Joins `groupId` on `topics` and feeds `writer`; see StreamConsumer. */
export function streamGroup (deps: GroupStreamDeps, writer: SseWriter, groupId: string, topics: string[], from: StreamFrom): StreamConsumer {
  const logger = deps.logger.child({ groupId })
  const written = new Map<string, bigint>()
  const key = (topic: string, partition: number): string => `${topic}/${partition}`
  return startStreamConsumer({
    kafka: deps.kafka,
    config: { groupId, ...STREAM_CONSUMER },
    topics,
    // applies only while the group has no committed offset (Kafka's auto.offset.reset)
    fromBeginning: from === 'earliest',
    writer,
    logger,
    positions: {
      next: (topic, partition) => written.get(key(topic, partition)),
      advance (topic, partition, next) {
        written.set(key(topic, partition), next)
        return `${topic}/${partition}/${next}`
      }
    },
    // the records are on the socket already: a commit lost to a rebalance is logged, not a reason to end the stream
    afterBatch: async (consumer, topic, partition, next) => {
      await consumer.commitOffsets([{ topic, partition, offset: next.toString() }])
        .catch((err: unknown) => { logger.warn({ err, topic, partition }, 'committing an SSE group stream\'s offsets failed') })
    }
  })
}
