/**
 * The chaos soak's fault schedule (issue 16, item 5), pure and seeded: which fault starts when, for how
 * long it is held (the faults that are a window: a webhook outage, a flaky webhook, Redis down, network
 * delay) and which instance or broker it hits. Faults are drawn from a shuffled bag of all nine, refilled
 * when empty: steps 1–9 are the nine in some order, 10–18 again, and so on. Faults never overlap: the runner
 * starts one only after the previous has healed, so `atMs` is the earliest start.
 */
import { seededRandom } from '../random.js'

export const CHAOS_FAULTS = [
  'webhook-down', 'webhook-flaky', 'gateway-kill', 'gateway-takeover', 'broker-restart', 'broker-loss',
  'redis-restart', 'redis-stop', 'network-delay'
] as const

export type ChaosFault = typeof CHAOS_FAULTS[number]

export interface ChaosStep {
  fault: ChaosFault
  /** Earliest start, ms after production began. */
  atMs: number
  /** How long a window fault is held (0 for the faults that heal by themselves: kills and restarts). */
  holdMs: number
  /** The gateway instance (0, 1) or broker (0, 1, 2) it hits, where it picks one. */
  target: number
  /** network-delay: added one-way delay and its random extra (ms). */
  delayMs: number
  jitterMs: number
}

export interface ScheduleOptions {
  /** How long production lasts; no fault starts in its last `tailShare`. */
  totalMs: number
  /** Quiet time between two faults: [min, max] ms. */
  gapMs?: [number, number]
  /** Share of the run at the end left without faults, so the run ends on a healthy system. */
  tailShare?: number
  /** Rough time a fault takes, to place the next one after it (the kills and restarts heal in about this). */
  healEstimateMs?: number
}

/** Hold time ranges of the window faults, ms. */
const HOLD_MS: Partial<Record<ChaosFault, [number, number]>> = {
  'webhook-down': [5000, 20_000],
  'webhook-flaky': [10_000, 30_000],
  'redis-stop': [3000, 12_000],
  'network-delay': [10_000, 30_000]
}

/**
 * network-delay bounds: the delay applies to each direction of the webhook connection, so a delivery
 * takes up to 2 × (delay + jitter) more — kept far below the webhook timeout (a timed-out delivery the
 * receiver answered would be a duplicate a webhook fault must not cause).
 */
export const MAX_DELAY_MS = 300
export const MAX_JITTER_MS = 200

function between (random: () => number, [min, max]: [number, number]): number {
  return Math.round(min + random() * (max - min))
}

function shuffled<T> (random: () => number, items: readonly T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const a = out[i] as T
    out[i] = out[j] as T
    out[j] = a
  }
  return out
}

export function chaosSchedule (seed: number, opts: ScheduleOptions): ChaosStep[] {
  const random = seededRandom(seed)
  const gap = opts.gapMs ?? [10_000, 25_000]
  const lastStart = opts.totalMs * (1 - (opts.tailShare ?? 0.15))
  const heal = opts.healEstimateMs ?? 20_000
  const steps: ChaosStep[] = []
  let bag: ChaosFault[] = []
  let at = between(random, gap)
  while (at <= lastStart) {
    if (bag.length === 0) bag = shuffled(random, CHAOS_FAULTS)
    const fault = bag.pop() as ChaosFault
    const hold = HOLD_MS[fault]
    const holdMs = hold === undefined ? 0 : between(random, hold)
    const target = Math.floor(random() * (fault.startsWith('broker') ? 3 : 2))
    const delayMs = fault === 'network-delay' ? between(random, [50, MAX_DELAY_MS]) : 0
    const jitterMs = fault === 'network-delay' ? between(random, [0, MAX_JITTER_MS]) : 0
    steps.push({ fault, atMs: at, holdMs, target, delayMs, jitterMs })
    at += (hold === undefined ? heal : holdMs) + between(random, gap)
  }
  return steps
}
