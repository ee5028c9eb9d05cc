/**
 * What a runner reports: counters per partition (delivered, dead-lettered, in flight from the deliveries
 * themselves; retries, last status and last error from the deliverer's events, observe.ts) and the lag the
 * supervisor measures (lag-status.ts). They feed GET /consumer-groups/{groupId}, the metrics and this
 * instance's status hash in Redis.
 */
import type { PartitionState, RunnerState } from './state.js'

export type RunnerPhase = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed'

/** One partition's delivery counters on this instance (since the consumer started) and its current lag. */
export interface PartitionStatus {
  topic: string
  partition: number
  /** Held by this instance right now (counters of partitions it held earlier are kept). */
  assigned: boolean
  delivered: number
  /** Retries scheduled (each failed attempt that will be tried again counts once). */
  retried: number
  deadLettered: number
  /** Records being delivered right now (one request at a time, in order: 0, or up to the webhook batchSize). */
  inFlight: number
  /** HTTP status of the last attempt, null when it got no response (or none was made yet). */
  lastStatus: number | null
  lastError: string | null
  /** High watermark minus the group's position; null until measured, or when not assigned here. */
  lag: number | null
  committedOffset: string | null
  highWatermark: string | null
}

export interface RunnerStatus {
  state: RunnerPhase
  /** Joined the group and consuming. */
  running: boolean
  lastError: string | null
  delivered: number
  /** Retries scheduled, over every partition. */
  retried: number
  deadLettered: number
  /** Deliveries that threw (retried from the last committed offset). */
  errors: number
  /** Records being delivered right now, over every partition. */
  inFlight: number
  /** HTTP status of the last attempt on any partition. */
  lastStatus: number | null
  /** Sum of the measured lag of the partitions held here; null until measured. */
  lag: number | null
  /** When the lag was last measured (ISO 8601). */
  lagUpdatedAt: string | null
  /** Partitions assigned to this instance, per topic. */
  partitions: Record<string, number[]>
  /** Per partition (topic, then partition order): counters, last status and error, lag. */
  byPartition: PartitionStatus[]
  updatedAt: string
}

/** A status with nothing counted yet. */
export function emptyStatus (state: RunnerPhase = 'stopped'): RunnerStatus {
  return {
    state,
    running: false,
    lastError: null,
    delivered: 0,
    retried: 0,
    deadLettered: 0,
    errors: 0,
    inFlight: 0,
    lastStatus: null,
    lag: null,
    lagUpdatedAt: null,
    partitions: {},
    byPartition: [],
    updatedAt: new Date().toISOString()
  }
}

/** How an error reads in `lastError` and the logs. */
export function errorText (err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

export function runnerStatus (state: RunnerState): RunnerStatus {
  return {
    state: state.phase,
    running: state.running,
    lastError: state.lastError,
    delivered: state.delivered,
    retried: state.retried,
    deadLettered: state.deadLettered,
    errors: state.errors,
    inFlight: state.inFlight,
    lastStatus: state.lastStatus,
    lag: totalLag(state),
    lagUpdatedAt: state.lagUpdatedAt,
    partitions: state.assignment,
    byPartition: partitionStatuses(state),
    updatedAt: new Date(state.updatedAtMs).toISOString()
  }
}

function byTopicThenPartition (a: PartitionState, b: PartitionState): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition
}

function partitionStatuses (state: RunnerState): PartitionStatus[] {
  return [...state.partitions.values()]
    .sort(byTopicThenPartition)
    .map(({ next: _next, batchWaitSince: _since, ...s }) => ({ ...s }))
}

function totalLag (state: RunnerState): number | null {
  let sum: number | null = null
  for (const s of state.partitions.values()) if (s.assigned && s.lag !== null) sum = (sum ?? 0) + s.lag
  return sum
}
