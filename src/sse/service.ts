/**
 * Server-sent event streams without routes: admission (SSE_MAX_STREAMS), the checks that must answer as
 * JSON before the stream begins, then the stream itself. Each stream's consumer stops when the client
 * leaves, and `stopAll` stops every one at shutdown while Kafka is still connected.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Admin, Kafka } from 'kafkajs'
import type { Logger } from 'pino'
import type { ConsumerService } from '../consumers/service.js'
import { AppError } from '../errors.js'
import { assertTopicName, topicNotFound } from '../kafka/topics.js'
import type { TopicService } from '../topics/service.js'
import { formatCursor } from './cursor.js'
import type { StreamConsumer } from './consumer.js'
import { assertStreamableGroup, streamGroup } from './group-stream.js'
import { createStreamRegistry, type StreamKind } from './registry.js'
import { startCursor, streamTopic, type StreamFrom, type TopicStreamQuery } from './topic-stream.js'
import { openSse, type SseWriter } from './writer.js'

export interface SseServiceDeps {
  kafka: Kafka
  clientId: string
  getAdmin: () => Promise<Admin>
  logger: Logger
  topics: Pick<TopicService, 'describe'>
  /** True when `groupId` is defined as a webhook consumer group (those are not streamed). */
  isGroupDefined: (groupId: string) => Promise<boolean>
  heartbeatMs: number
  maxStreams: number
}

export interface SseService {
  topicStream (request: FastifyRequest, reply: FastifyReply, topic: string, query: TopicStreamQuery): Promise<void>
  groupStream (request: FastifyRequest, reply: FastifyReply, groupId: string, topics: string[], from: StreamFrom): Promise<void>
  counts (): Record<StreamKind, number>
  stopAll (): Promise<void>
}

/** Whether `groupId` is defined as a webhook consumer group (the consumer service answers 404 otherwise). */
export async function isDefinedGroup (consumers: Pick<ConsumerService, 'get'>, groupId: string): Promise<boolean> {
  try {
    await consumers.get(groupId)
    return true
  } catch (err) {
    if (err instanceof AppError && err.code === 'GW_NOT_FOUND') return false
    throw err
  }
}

export function createSseService (deps: SseServiceDeps): SseService {
  const registry = createStreamRegistry(deps.maxStreams)
  const logger = deps.logger.child({ component: 'sse' })

  /** Admits, runs the JSON-answering checks (`prepare`), then opens the stream and starts its consumer. */
  async function serve (kind: StreamKind, request: FastifyRequest, reply: FastifyReply, prepare: () => Promise<(writer: SseWriter) => StreamConsumer>): Promise<void> {
    const slot = registry.admit(kind)
    let begin: (writer: SseWriter) => StreamConsumer
    try {
      begin = await prepare()
    } catch (err) {
      slot.release()
      throw err
    }
    const writer = openSse(request, reply, deps.heartbeatMs)
    const consumer = begin(writer)
    slot.stopWith(async () => { writer.end(); await consumer.stop() })
    writer.onClose(() => { void consumer.stop().finally(() => { slot.release() }) })
    await consumer.ready.catch((err: unknown) => { logger.warn({ err, kind }, 'an SSE stream\'s consumer did not start: the stream ended') })
  }

  return {
    async topicStream (request, reply, topic, query) {
      await serve('topic', request, reply, async () => {
        const { partitions } = await deps.topics.describe(topic)
        const start = startCursor(topic, partitions, query)
        return writer => {
          // the starting cursor first: a client that leaves before any record still resumes from here
          const cursor = formatCursor(start)
          writer.event(cursor, 'position', JSON.stringify({ topic, cursor }))
          return streamTopic(deps, writer, topic, start)
        }
      })
    },

    async groupStream (request, reply, groupId, topics, from) {
      await serve('group', request, reply, async () => {
        await assertStreamableGroup(groupId, deps.isGroupDefined)
        for (const topic of topics) {
          assertTopicName('querystring/topics', topic)
          await deps.topics.describe(topic).catch((err: unknown) => {
            throw err instanceof AppError && err.code === 'GW_TOPIC_NOT_FOUND' ? topicNotFound(topic, 'querystring/topics', '') : err
          })
        }
        return writer => streamGroup(deps, writer, groupId, topics, from)
      })
    },

    counts: () => registry.counts(),
    stopAll: async () => { await registry.stopAll() }
  }
}
