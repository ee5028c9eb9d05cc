/**
 * The bridge from a kafkajs consumer to an SSE stream, shared by topic and group streams: each record is
 * written as an `event: record` whose data is the webhook envelope body (src/webhooks/envelope.ts), in
 * offset order per partition. When the socket buffer fills, the partition is paused; once it drains it is
 * sought back to the next unwritten offset and resumed — kafkajs drops what it fetched for a paused
 * partition, and the seek makes the restart point explicit (nothing skipped; `positions` drops repeats).
 */
import type { Consumer, EachBatchPayload } from 'kafkajs'
import type { Logger } from 'pino'
import { envelopeBody, toConsumedRecord } from '../webhooks/envelope.js'
import type { SseWriter } from './writer.js'

/** Where a stream is: the next offset to write per partition, and the event id after a write. */
export interface Positions {
  next (topic: string, partition: number): bigint | undefined
  /** Records `next` for the partition; returns the event id of the record just written. */
  advance (topic: string, partition: number, next: bigint): string
}

export interface FeedDeps {
  consumer: Consumer
  writer: SseWriter
  positions: Positions
  logger: Logger
  /** After a batch's records were written (group streams commit here). */
  afterBatch?: (topic: string, partition: number, next: bigint) => Promise<void>
}

/** The eachBatch handler of a stream's consumer (run it with autoCommit false and eachBatchAutoResolve false). */
export function feedBatches (deps: FeedDeps): (payload: EachBatchPayload) => Promise<void> {
  const { writer, positions } = deps
  return async ({ batch, isRunning, isStale, resolveOffset, heartbeat }) => {
    const { topic, partition } = batch
    let wrote: bigint | undefined
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || writer.closed) break
      const offset = BigInt(message.offset)
      const next = positions.next(topic, partition)
      if (next !== undefined && offset < next) continue
      const id = positions.advance(topic, partition, offset + 1n)
      wrote = offset + 1n
      const fits = writer.event(id, 'record', envelopeBody(toConsumedRecord(topic, partition, message)))
      resolveOffset(message.offset)
      if (!fits) {
        pauseUntilDrained(deps, topic, partition)
        break
      }
    }
    if (wrote !== undefined && deps.afterBatch !== undefined) await deps.afterBatch(topic, partition, wrote)
    await heartbeat()
  }
}

function pauseUntilDrained (deps: FeedDeps, topic: string, partition: number): void {
  const { consumer, writer, positions, logger } = deps
  consumer.pause([{ topic, partitions: [partition] }])
  void writer.drained().then(() => {
    if (writer.closed) return
    const next = positions.next(topic, partition)
    try {
      if (next !== undefined) consumer.seek({ topic, partition, offset: next.toString() })
      consumer.resume([{ topic, partitions: [partition] }])
    } catch (err) {
      // the partition went to another member meanwhile (group streams): it resumes there
      logger.debug({ err, topic, partition }, 'resuming a drained SSE partition failed')
    }
  })
}
