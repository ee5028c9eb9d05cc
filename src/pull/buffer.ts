/**
 * The hand-over between kafkajs (push) and GET …/records (pull). kafkajs calls eachBatch with one batch per
 * partition (several partitions at once, up to the consumer's concurrency); each batch waits here, the
 * member heartbeating, until polls have taken all of it, so the buffer holds at most one fetched batch per
 * partition in flight. A poll takes records in offset order per partition and resolves the offset of the
 * last one taken, which moves the fetch position; only polled records are ever committed (`polled`).
 * A batch made stale by a seek, or cut short by a rebalance or stop, is dropped: what was not polled is
 * fetched again.
 */
import type { EachBatchPayload, KafkaMessage } from 'kafkajs'
import { toConsumedRecord } from '../webhooks/envelope.js'
import type { ConsumedRecord } from '../webhooks/types.js'

interface Pending {
  topic: string
  partition: number
  messages: KafkaMessage[]
  next: number
  payload: EachBatchPayload
  /** Wakes the batch's eachBatch when polls took everything. */
  drained: () => void
}

export interface PollLimits { maxRecords: number, maxBytes: number }

export interface PullBuffer {
  /** The consumer's eachBatch. */
  eachBatch (payload: EachBatchPayload): Promise<void>
  /** Takes what is buffered now, up to the limits (at least one record when any is buffered). */
  take (limits: PollLimits): ConsumedRecord[]
  /** Resolves when records arrive or after `ms`. */
  waitForRecords (ms: number): Promise<void>
  /** `topic/partition` → the offset after the last record polled (what a commit of "everything polled" writes). */
  readonly polled: Map<string, { topic: string, partition: number, offset: string }>
  /** Forgets polled positions of partitions this member no longer holds (after a rebalance) or that were sought. */
  forget (keep: (topic: string, partition: number) => boolean): void
  /** Drops buffered batches of the partitions (a seek), letting their eachBatch return. */
  drop (match: (topic: string, partition: number) => boolean): void
  /** Ends every waiting batch (stop). */
  clear (): void
}

export const partitionKey = (topic: string, partition: number): string => `${topic}/${partition}`

const bytesOf = (m: KafkaMessage): number => (m.key?.length ?? 0) + (m.value?.length ?? 0)

export function createPullBuffer ({ heartbeatMs }: { heartbeatMs: number }): PullBuffer {
  const pending: Pending[] = []
  const waiters = new Set<() => void>()
  const polled = new Map<string, { topic: string, partition: number, offset: string }>()

  const wake = (): void => {
    for (const w of waiters) w()
    waiters.clear()
  }
  const remove = (p: Pending): void => {
    const i = pending.indexOf(p)
    if (i >= 0) pending.splice(i, 1)
    p.drained()
  }

  async function eachBatch (payload: EachBatchPayload): Promise<void> {
    const { batch } = payload
    if (batch.messages.length === 0) return
    let drained = (): void => {}
    const done = new Promise<void>(resolve => { drained = resolve })
    const p: Pending = { topic: batch.topic, partition: batch.partition, messages: batch.messages, next: 0, payload, drained }
    pending.push(p)
    wake()
    try {
      while (p.next < p.messages.length && pending.includes(p)) {
        if (!payload.isRunning() || payload.isStale()) return
        let timer: NodeJS.Timeout | undefined
        await Promise.race([done, new Promise<void>(resolve => { timer = setTimeout(resolve, heartbeatMs) })])
        clearTimeout(timer)
        // throws when the group rebalances: kafkajs rejoins, and what was not polled is fetched again
        if (p.next < p.messages.length && pending.includes(p)) await payload.heartbeat()
      }
    } finally {
      remove(p)
    }
  }

  function take ({ maxRecords, maxBytes }: PollLimits): ConsumedRecord[] {
    const out: ConsumedRecord[] = []
    let bytes = 0
    for (const p of [...pending]) {
      if (p.payload.isStale() || !p.payload.isRunning()) continue
      let last: KafkaMessage | undefined
      while (p.next < p.messages.length && out.length < maxRecords) {
        const m = p.messages[p.next] as KafkaMessage
        if (out.length > 0 && bytes + bytesOf(m) > maxBytes) break
        out.push(toConsumedRecord(p.topic, p.partition, m))
        bytes += bytesOf(m)
        last = m
        p.next++
      }
      if (last !== undefined) {
        p.payload.resolveOffset(last.offset)
        polled.set(partitionKey(p.topic, p.partition), { topic: p.topic, partition: p.partition, offset: (BigInt(last.offset) + 1n).toString() })
      }
      if (p.next >= p.messages.length) remove(p)
      if (out.length >= maxRecords || bytes >= maxBytes) break
    }
    return out
  }

  return {
    eachBatch,
    take,
    polled,
    async waitForRecords (ms) {
      if (pending.some(p => p.next < p.messages.length)) return
      let timer: NodeJS.Timeout | undefined
      await new Promise<void>(resolve => {
        waiters.add(resolve)
        timer = setTimeout(() => { waiters.delete(resolve); resolve() }, ms)
      })
      clearTimeout(timer)
    },
    forget (keep) {
      for (const [k, v] of polled) if (!keep(v.topic, v.partition)) polled.delete(k)
    },
    drop (match) {
      for (const p of [...pending]) if (match(p.topic, p.partition)) remove(p)
    },
    clear () {
      for (const p of [...pending]) remove(p)
      wake()
    }
  }
}
