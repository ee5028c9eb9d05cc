/**
 * GET /topics/{topic}/events: a topic's records as SSE, read by an uncommitted group of one member
 * (`kafka-http-gateway.events.<clientId>.<uuid>`, the declared-partitions assigner, like the topic reader
 * of src/topics/reader.ts) that is left and deleted when the stream closes. Every partition starts at an
 * explicit offset — the cursor (Last-Event-ID) or `from` — so a resume is exact.
 */
import { randomUUID } from 'node:crypto'
import type { Admin, Kafka } from 'kafkajs'
import type { Logger } from 'pino'
import { partitionOutOfRange } from '../kafka/topics.js'
import { declaredPartitionAssigner } from '../kafka/partition-assigner.js'
import type { PartitionOffsets } from '../topics/service.js'
import { STREAM_CONSUMER, startStreamConsumer, type StreamConsumer } from './consumer.js'
import { formatCursor, type Cursor } from './cursor.js'
import type { SseWriter } from './writer.js'

export const EVENTS_GROUP_PREFIX = 'kafka-http-gateway.events.'

export type StreamFrom = 'latest' | 'earliest'

export interface TopicStreamQuery {
  from: StreamFrom
  partitions?: number[]
  /** The resume cursor, and the field it came from (for the 400). */
  cursor?: { value: Cursor, field: string }
}

/** Where each partition starts (checked before the response begins, so a bad request is a JSON 4xx). */
export function startCursor (topic: string, offsets: PartitionOffsets[], query: TopicStreamQuery): Cursor {
  const byPartition = new Map(offsets.map(o => [o.partition, o]))
  const count = offsets.length
  for (const p of query.partitions ?? []) {
    if (!byPartition.has(p)) throw partitionOutOfRange('querystring/partitions', topic, p, count)
  }
  for (const p of query.cursor?.value.keys() ?? []) {
    if (!byPartition.has(p)) throw partitionOutOfRange(query.cursor?.field ?? 'header/last-event-id', topic, p, count)
  }
  const selected = query.partitions ?? offsets.map(o => o.partition)
  const start: Cursor = new Map()
  for (const p of selected) {
    const { earliest, latest } = byPartition.get(p) ?? { earliest: '0', latest: '0' }
    const given = query.cursor?.value.get(p) ?? BigInt(query.from === 'earliest' ? earliest : latest)
    // records older than the earliest kept are gone; a position past the end waits for the next record
    const clamped = given < BigInt(earliest) ? BigInt(earliest) : given > BigInt(latest) ? BigInt(latest) : given
    start.set(p, clamped)
  }
  return start
}

export interface TopicStreamDeps {
  kafka: Kafka
  clientId: string
  getAdmin: () => Promise<Admin>
  logger: Logger
}

/** Feeds `writer` from `start` on; see StreamConsumer. */
export function streamTopic (deps: TopicStreamDeps, writer: SseWriter, topic: string, start: Cursor): StreamConsumer {
  const groupId = `${EVENTS_GROUP_PREFIX}${deps.clientId}.${randomUUID()}`
  const cursor: Cursor = new Map(start)
  const logger = deps.logger.child({ topic, groupId })
  const config = { groupId, partitionAssigners: [declaredPartitionAssigner({ [topic]: [...start.keys()] })], ...STREAM_CONSUMER }
  return startStreamConsumer({
    kafka: deps.kafka,
    config,
    topics: [topic],
    fromBeginning: true,
    writer,
    logger,
    positions: {
      next: (_t, p) => cursor.get(p),
      advance (_t, p, next) { cursor.set(p, next); return formatCursor(cursor) }
    },
    started: c => { for (const [partition, offset] of start) c.seek({ topic, partition, offset: offset.toString() }) },
    stopped: async () => {
      // a group that never formed answers GROUP_ID_NOT_FOUND: nothing to delete
      await (await deps.getAdmin()).deleteGroups([groupId]).catch((err: unknown) => { logger.debug({ err }, 'deleting an SSE stream group failed') })
    }
  })
}
