/** What the fault scenarios (scenarios.ts) run on and at which scale: `npm test`'s small one, the soak's. */
import type { Verdict } from './report.js'

/** Where the scenarios that do not restart infrastructure run (the shared dev broker and Redis, or the soak's own). */
export interface Infra {
  brokers: string
  redisUrl: string
}

export interface ScenarioSize {
  messages: number
  partitions: number
  /** Distinct keys (0: no key). */
  keys: number
  /** POSTs in flight. */
  producers: number
  ratePerSec: number
  /** How long the webhook answers 503 in the webhook-down scenario. */
  webhookDownMs: number
  /** Share of deliveries that meet a random fault in the webhook-flaky scenario. */
  flakyProbability: number
  /** Every id with id % poisonModulo === 13 is refused with 422 (dead-lettered); 0: none. */
  poisonModulo: number
  drainTimeoutMs: number
  seed: number
}

/** `npm test`: a few hundred messages, seconds of faults. */
export const SMALL: ScenarioSize = {
  messages: 300,
  partitions: 4,
  keys: 16,
  producers: 8,
  ratePerSec: 40,
  webhookDownMs: 5000,
  flakyProbability: 0.1,
  poisonModulo: 97,
  drainTimeoutMs: 120_000,
  seed: Number(process.env.RELIABILITY_SEED ?? 8)
}

/** `npm run soak`: N messages over about `seconds` of production; a 30 s webhook outage. */
export function soakSize (messages: number, seconds = 60): ScenarioSize {
  return {
    messages,
    partitions: 6,
    keys: 64,
    producers: 16,
    ratePerSec: Math.max(50, Math.ceil(messages / seconds)),
    webhookDownMs: 30_000,
    flakyProbability: 0.1,
    poisonModulo: 97,
    drainTimeoutMs: 600_000,
    seed: Number(process.env.RELIABILITY_SEED ?? 8)
  }
}

/** Consumer settings that keep failovers fast (the broker's minimum session is 6 s). */
export const FAST_CONSUMER = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, rebalanceTimeoutMs: 10_000, maxWaitTimeMs: 100 }

export type Log = (line: string) => void

export interface Scenario {
  /** The row label. */
  title: (size: ScenarioSize) => string
  run: (infra: Infra, size: ScenarioSize, log: Log) => Promise<Verdict>
}
