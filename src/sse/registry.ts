/**
 * The open SSE streams of this instance: admission against SSE_MAX_STREAMS, the counts the metrics gauge
 * reads, and the stop of every stream at shutdown (each stream's stop disconnects its consumer and, for
 * topic streams, deletes its group — before Kafka's client closes).
 */
import { AppError } from '../errors.js'

export type StreamKind = 'topic' | 'group'

/** One admitted stream: `stopWith` names how it stops; `release` frees its place once it stopped. */
export interface StreamSlot {
  stopWith (stop: () => Promise<void>): void
  release (): void
}

export interface StreamRegistry {
  /** Reserves a place (synchronously, so concurrent opens cannot pass the limit); 503 when none is left. */
  admit (kind: StreamKind): StreamSlot
  counts (): Record<StreamKind, number>
  /** Stops every open stream and waits for them (shutdown). */
  stopAll (): Promise<void>
}

export function createStreamRegistry (maxStreams: number): StreamRegistry {
  const open = new Map<StreamSlot, { kind: StreamKind, stop?: () => Promise<void> }>()
  return {
    admit (kind) {
      if (open.size >= maxStreams) {
        throw new AppError(503, 'GW_OVERLOADED', `this instance already serves ${maxStreams} event streams (SSE_MAX_STREAMS); retry later or on another instance`,
          { retryAfterSeconds: 5, details: [{ rule: 'maxStreams', message: `at most ${maxStreams} open streams`, limit: maxStreams }] })
      }
      const slot: StreamSlot = {
        stopWith (stop) { const s = open.get(slot); if (s !== undefined) s.stop = stop },
        release () { open.delete(slot) }
      }
      open.set(slot, { kind })
      return slot
    },
    counts () {
      const counts: Record<StreamKind, number> = { topic: 0, group: 0 }
      for (const s of open.values()) counts[s.kind]++
      return counts
    },
    async stopAll () {
      await Promise.all([...open.values()].map(async s => await s.stop?.()))
    }
  }
}
