/**
 * One runner's dependencies and its state: ONE object, built when the runner is created, that every step
 * of the runner (batch loop, commits, group events, status, stop) is handed.
 */
import type { Consumer, Kafka } from 'kafkajs'
import type { Logger } from 'pino'
import type { TopicPart } from '../../registry/registry.js'
import type { Deliverer } from '../../webhooks/types.js'
import type { GroupDefinition } from '../definition.js'
import type { Declaration } from '../store.js'
import { newCommitState, type CommitState } from './commits.js'
import type { JoinInfo } from './group-events.js'
import type { PartitionStatus, RunnerPhase } from './status.js'

export interface RunnerDeps {
  kafka: Kafka
  deliverer: Deliverer
  logger: Logger
  /** After every join/rebalance, with this member's parts of the registry entry (topics with partitions only). */
  onJoin: (groupId: string, parts: TopicPart[], join: JoinInfo) => void
  /** The consumer crashed for good (kafkajs will not restart it); the supervisor starts a new one later. */
  onFailed: (groupId: string, error: Error) => void
}

/**
 * A partition's status; `next` is the offset after the last record finished here (this generation);
 * `batchWaitSince` (performance.now()) when its partial batch began to wait for more records (maxBatchWaitMs).
 */
export type PartitionState = PartitionStatus & { next: bigint | undefined, batchWaitSince: number | undefined }

export interface RunnerState {
  readonly groupId: string
  readonly declaration: Declaration
  readonly def: GroupDefinition
  readonly topics: string[]
  readonly deps: RunnerDeps
  /** The `component: 'consumer'` child logger. */
  readonly log: Logger
  phase: RunnerPhase
  /** Joined the group at least once since start. */
  joined: boolean
  /** Joined and consuming (false while rebalancing, after a crash, when stopping). */
  running: boolean
  lastError: string | null
  lastStatus: number | null
  delivered: number
  retried: number
  deadLettered: number
  errors: number
  inFlight: number
  lagUpdatedAt: string | null
  /** Per `topic\u0000partition`. */
  readonly partitions: Map<string, PartitionState>
  /** The same entries by topic then partition: the per-record and per-event lookup builds no key string. */
  readonly partitionsByTopic: Map<string, Map<number, PartitionState>>
  /** This member's partitions per topic (sorted, topics with none left out). */
  assignment: Record<string, number[]>
  parts: TopicPart[]
  updatedAtMs: number
  consumer: Consumer | undefined
  /** Aborted when this member's generation ends (rebalance, stop): deliveries in flight give up uncommitted. */
  generation: AbortController
  commits: CommitState
  starting: Promise<void> | undefined
  stopping: Promise<void> | undefined
  /** Set by stop(graceMs): batches start no further record and wait on it, so nothing is fetched again. */
  finishing: Promise<void> | undefined
  /** Called when the last delivery in flight ends (the graceful stop waits on it). */
  onIdle: (() => void) | undefined
}

export function createRunnerState (groupId: string, declaration: Declaration, deps: RunnerDeps): RunnerState {
  const def = declaration.definition
  return {
    groupId,
    declaration,
    def,
    topics: def.topics.map(t => t.name),
    deps,
    log: deps.logger.child({ component: 'consumer', groupId }),
    phase: 'starting',
    joined: false,
    running: false,
    lastError: null,
    lastStatus: null,
    delivered: 0,
    retried: 0,
    deadLettered: 0,
    errors: 0,
    inFlight: 0,
    lagUpdatedAt: null,
    partitions: new Map(),
    partitionsByTopic: new Map(),
    assignment: {},
    parts: [],
    updatedAtMs: Date.now(),
    consumer: undefined,
    generation: new AbortController(),
    commits: newCommitState(),
    starting: undefined,
    stopping: undefined,
    finishing: undefined,
    onIdle: undefined
  }
}

export function touch (state: RunnerState): void {
  state.updatedAtMs = Date.now()
}

/** The partition's entry, created (not assigned, nothing counted) on first use. */
export function partitionOf (state: RunnerState, topic: string, partition: number): PartitionState {
  let byPartition = state.partitionsByTopic.get(topic)
  if (byPartition === undefined) {
    byPartition = new Map()
    state.partitionsByTopic.set(topic, byPartition)
  }
  let s = byPartition.get(partition)
  if (s === undefined) {
    s = { topic, partition, assigned: false, delivered: 0, retried: 0, deadLettered: 0, inFlight: 0, lastStatus: null, lastError: null, lag: null, committedOffset: null, highWatermark: null, next: undefined, batchWaitSince: undefined }
    byPartition.set(partition, s)
    state.partitions.set(`${topic}\u0000${partition}`, s)
  }
  return s
}

/** Marks the partitions of `state.assignment` as held here (creating their entries), every other one as not. */
export function markAssigned (state: RunnerState): void {
  for (const s of state.partitions.values()) {
    s.assigned = false
    s.lag = null
    s.next = undefined
  }
  for (const [topic, list] of Object.entries(state.assignment)) for (const p of list) partitionOf(state, topic, p).assigned = true
}
