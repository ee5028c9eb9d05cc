/** The runner's side of lag measurement (../lag.ts, run by the supervisor): what to measure, and the result. */
import type { LagTarget, PartitionLag } from '../lag.js'
import type { RunnerState } from './state.js'

/** The partitions held here (none while not running) and where delivery stands on them. */
export function lagTarget (state: RunnerState): LagTarget {
  return {
    groupId: state.groupId,
    fromBeginning: state.def.fromBeginning,
    assignment: state.running ? state.assignment : {},
    nextOffset: (topic, partition) => state.partitions.get(`${topic}\u0000${partition}`)?.next
  }
}

/** Stores measured lag; partitions not listed, or no longer held here, keep their previous value. */
export function applyLag (state: RunnerState, lag: readonly PartitionLag[], at: Date): void {
  for (const l of lag) {
    const s = state.partitions.get(`${l.topic}\u0000${l.partition}`)
    if (s === undefined || !s.assigned) continue
    s.lag = l.lag
    s.committedOffset = l.committedOffset
    s.highWatermark = l.highWatermark
  }
  state.lagUpdatedAt = at.toISOString()
}
