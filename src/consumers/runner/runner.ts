/**
 * One consumer group on this instance: a kafkajs consumer (consumer.ts) whose batch loop (batch.ts) hands
 * every record, in partition order, to the Deliverer and commits a record's offset only after delivery
 * finished (commits.ts schedules the commits, generation.ts guards the group membership). Its state is
 * one object (state.ts) handed to those functions; status.ts, observe.ts and lag-status.ts keep and
 * report its counters and lag (GET /consumer-groups/{groupId}, the metrics).
 */
import type { TopicPart } from '../../registry/registry.js'
import type { DeliveryEvent } from '../../webhooks/types.js'
import type { LagTarget, PartitionLag } from '../lag.js'
import type { Declaration } from '../store.js'
import { runConsumer } from './consumer.js'
import { applyLag, lagTarget } from './lag-status.js'
import { observeDelivery } from './observe.js'
import { createRunnerState, type RunnerDeps } from './state.js'
import { runnerStatus, type RunnerPhase, type RunnerStatus } from './status.js'
import { stopRunner } from './stop.js'

export type { RunnerDeps } from './state.js'

export interface GroupRunner {
  readonly groupId: string
  readonly declaration: Declaration
  /** Whether the group joined at least once since start. */
  readonly joined: boolean
  readonly state: RunnerPhase
  /** This member's current registry parts. */
  parts (): TopicPart[]
  status (): RunnerStatus
  /** A delivery event of this group (from the deliverer's observer): retries, last status and error. */
  observe (e: DeliveryEvent): void
  /** What lag measurement needs: the partitions held here and where delivery stands on them. */
  lagTarget (): LagTarget
  /** Stores measured lag (partitions not listed keep their previous value). */
  applyLag (lag: readonly PartitionLag[], at: Date): void
  start (): Promise<void>
  /**
   * Starts no further record, gives deliveries in flight up to `graceMs` to finish (their offsets are then
   * committed), aborts what is still running (uncommitted: delivered again later), leaves the group, disconnects.
   */
  stop (graceMs?: number): Promise<void>
}

export function createGroupRunner (groupId: string, declaration: Declaration, deps: RunnerDeps): GroupRunner {
  const state = createRunnerState(groupId, declaration, deps)
  return {
    groupId,
    declaration,
    get joined () { return state.joined },
    get state () { return state.phase },
    parts: () => state.parts,
    status: () => runnerStatus(state),
    observe: e => { observeDelivery(state, e) },
    lagTarget: () => lagTarget(state),
    applyLag: (lag, at) => { applyLag(state, lag, at) },
    start: () => {
      state.starting ??= runConsumer(state)
      return state.starting
    },
    stop: async (graceMs = 0) => { await stopRunner(state, graceMs) }
  }
}
