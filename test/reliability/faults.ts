/**
 * Faults of a counting run (counting.ts) and the bound on the duplicates they may cause.
 *
 * Duplicates and their bound (the in-flight window). The gateway is at-least-once; a message can be seen
 * twice for exactly two reasons, and each is bounded by what was in flight when a fault hit:
 * 1. a redelivery (same partition and offset, so the same `webhook-id`): a record handled (2xx, or refused
 *    and dead-lettered) whose offset was not yet committed when its consumer died or lost its partitions.
 *    On partition p a consumer generation that ends at t_g can only leave [committed_p(t_g), highest
 *    handled_p(t_g)] uncommitted. The harness samples the group's committed offsets every SAMPLE_MS during
 *    the run; since committed offsets and the highest handled offset only grow, for samples s_i ≤ t_g ≤
 *    s_i+1 the window is at most highest_p(s_i+1) + 1 − committed_p(s_i). Summed over partitions and
 *    maximised over the fault's window (from its start until the group was seen running again), that is the
 *    fault's in-flight window on the delivery side (`uncommittedAtFaults`). Each redelivered record must
 *    also have been first handled between REDELIVERY_LOOKBACK_MS before a fault and the end of its window:
 *    the consumer commits at most COMMIT_INTERVAL_MS (src/consumers/runner/commits.ts)
 *    after a delivery and at the end of every batch; 2 s of slack cover a loaded machine.
 * 2. a reproduction (same id at another offset): a POST whose outcome was ambiguous (connection lost after
 *    sending, 5xx, timeout) may have been written, and its retry writes it again once the Idempotency-Key
 *    is released or expired; and a request in flight when a broker died may have been written up to
 *    1 + GATEWAY_PRODUCER_RETRIES times by the gateway's Kafka client retrying inside the request (0 with
 *    the idempotent producer), whatever the answer. That is the in-flight window on the produce side.
 * bound = ambiguous attempts + GATEWAY_PRODUCER_RETRIES × attempts in flight at a broker fault that reached
 * the gateway + uncommittedAtFaults.
 * Webhook faults (503 windows, random errors) are not infrastructure faults: they must cause no duplicate
 * at all. `verify` also checks each duplicate individually against its cause.
 */
import type { ProducerClient } from './producer.js'
import type { CountingReceiver } from './receiver.js'

/** The longest the consumer leaves a finished record uncommitted (COMMIT_INTERVAL_MS, src/consumers/runner/commits.ts). */
export const COMMIT_INTERVAL_MS = 1000
/** How far before a fault a record may have been handled and still be uncommitted. */
export const REDELIVERY_LOOKBACK_MS = COMMIT_INTERVAL_MS + 2000
/** How often the group's committed offsets are sampled during a run. */
export const SAMPLE_MS = 250
/**
 * Extra copies the gateway's producer may write by retrying inside one request. Its producer is Kafka's
 * idempotent one (PRODUCE_IDEMPOTENT, the default; src/kafka/idempotent-sends.ts): the broker drops the
 * retries' copies, so a request cut by a broker fault is written once — any reproduction must come from
 * an ambiguous answer the client retried.
 */
export const GATEWAY_PRODUCER_RETRIES = 0

export interface FaultEvent {
  name: string
  /**
   * `gateway`, `broker`, `redis`: infrastructure faults, which may cause duplicates within their in-flight
   * window (a `broker` fault also lets a POST be written twice inside one request); `webhook`: must cause none.
   */
  kind: 'webhook' | 'gateway' | 'broker' | 'redis'
  start: number
  end: number
  /** Until when a consumer generation may have ended because of this fault (default: `end`). */
  windowEnd: number
  /** `broker` faults: until when a produce request in flight may have been written twice (default: `end`). */
  writeWindowEnd: number
}

/** What a trigger may say about its fault's windows (performance.now() values); see FaultEvent. */
export interface FaultWindows {
  windowEnd?: number
  writeWindowEnd?: number
}

/** The group's committed offsets and the receiver's highest handled offsets at one moment. */
export interface Sample {
  at: number
  committed: Map<number, number>
  highest: Map<number, number>
}

export interface TriggerContext {
  producer: ProducerClient
  receiver: CountingReceiver
  log: (line: string) => void
}

export interface Trigger {
  name: string
  kind: FaultEvent['kind']
  /**
   * Fires once this fraction of the messages is accepted / handled by the receiver, and at least `afterMs`
   * after production started (the chaos soak's schedule).
   */
  when: { accepted?: number, handled?: number, afterMs?: number }
  /**
   * Injects the fault; resolves once the system is seen to have recovered (the end of the fault), optionally
   * with narrower windows: after `windowEnd` no consumer generation can end because of the fault (e.g. just
   * after a lone gateway was killed: its restart starts a fresh, stable generation); after `writeWindowEnd`
   * no produce request can be cut by it (e.g. once the killed broker is gone).
   */
  run: (ctx: TriggerContext) => Promise<FaultWindows | undefined | void>
}

/**
 * The most records that can have been handled but not committed when a consumer generation ended in
 * [from, to]: per partition, the largest highest(s_i+1) + 1 − committed(s_i) over consecutive samples whose
 * interval meets [from, to] (both only grow, so this bounds the window at any moment in between), summed.
 */
export function uncommittedWindow (samples: Sample[], from: number, to: number): number {
  let total = 0
  const partitions = new Set(samples.flatMap(s => [...s.committed.keys(), ...s.highest.keys()]))
  for (const p of partitions) {
    let worst = 0
    for (let i = 0; i < samples.length; i++) {
      const a = samples[i] as Sample
      const b = samples[i + 1]
      // [a.at, b.at] must meet [from, to]; after the last sample, the window is open-ended
      if ((b !== undefined && b.at < from) || a.at > to) continue
      const highest = (b ?? a).highest.get(p) ?? -1
      const committed = Math.max(0, a.committed.get(p) ?? 0)
      worst = Math.max(worst, highest + 1 - committed)
    }
    total += worst
  }
  return total
}
