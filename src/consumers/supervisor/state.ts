/** The supervisor's dependencies and its state: ONE object, built once, that every step of the supervisor is handed. */
import type { Redis } from 'ioredis'
import type { Kafka } from 'kafkajs'
import type { Logger } from 'pino'
import type { RegistryKeys } from '../../registry/keys.js'
import type { Liveness } from '../../registry/liveness.js'
import type { Registry, TopicPart } from '../../registry/registry.js'
import type { Deliverer } from '../../webhooks/types.js'
import type { LagAdmin } from '../lag.js'
import { createGroupRunner, type GroupRunner } from '../runner/runner.js'
import type { RunnerStatus } from '../runner/status.js'
import type { DefinitionStore, GroupRecord } from '../store.js'

export interface SupervisorDeps {
  clientId: string
  heartbeatMs: number
  redis: Redis
  keys: RegistryKeys
  kafka: Kafka
  deliverer: Deliverer
  registry: Registry
  liveness: Liveness
  store: DefinitionStore
  logger: Logger
  /** For lag measurement (committed offsets and high watermarks); without it lag stays unknown. */
  lagAdmin?: LagAdmin
  /** How long deliveries in flight may finish when a consumer stops (shutdown, DELETE, redefinition); default 0. */
  stopGraceMs?: number
  /** Builds a group's runner; tests may substitute it. */
  createRunner?: typeof createGroupRunner
}

export interface Slot {
  runner: GroupRunner
  /** Runner instance id: events of a replaced runner are ignored. */
  id: number
}

export interface SupervisorState {
  readonly deps: SupervisorDeps
  /** The `component: 'supervisor'` child logger. */
  readonly log: Logger
  readonly makeRunner: typeof createGroupRunner
  /** Lag measurement waits at most this long per tick (Kafka unreachable must not delay reconciling). */
  readonly lagTimeoutMs: number
  /** The runners of this instance, by groupId. */
  readonly slots: Map<string, Slot>
  /** Groups stopped by DELETE /consumers here, with their status when they stopped. */
  readonly stoppedByRequest: Map<string, RunnerStatus>
  nextId: number
  /** The next tick. */
  timer: NodeJS.Timeout | undefined
  /** The heartbeat's own timer. */
  beat: NodeJS.Timeout | undefined
  closed: boolean
  started: boolean
  /** The tick in progress (or the last one): ticks never overlap. */
  chain: Promise<void>
  /** `<key>:epoch` as last read; a different one means Redis lost its data. */
  epoch: string | undefined
  /** The definitions as last read, written back when Redis lost them. */
  snapshot: Map<string, GroupRecord>
  redisDown: boolean
  /** This instance holds the heartbeat key of its clientId. */
  owner: boolean
  loadAnnounced: boolean
  lagRunning: boolean
  /** Other consumers of this instance (pull consumers) whose parts belong in its registry entry too. */
  readonly partSources: Array<() => TopicPart[]>
}

export function createSupervisorState (deps: SupervisorDeps): SupervisorState {
  return {
    deps,
    log: deps.logger.child({ component: 'supervisor', clientId: deps.clientId }),
    makeRunner: deps.createRunner ?? createGroupRunner,
    lagTimeoutMs: Math.max(500, Math.min(deps.heartbeatMs, 5000)),
    slots: new Map(),
    stoppedByRequest: new Map(),
    nextId: 1,
    timer: undefined,
    beat: undefined,
    closed: false,
    started: false,
    chain: Promise.resolve(),
    epoch: undefined,
    snapshot: new Map(),
    redisDown: false,
    owner: false,
    loadAnnounced: false,
    lagRunning: false,
    partSources: []
  }
}

export function markRedisDown (state: SupervisorState, err: unknown, what: string): void {
  if (!state.redisDown) state.log.warn({ err, what }, 'Redis unavailable: consumers keep running; registry and status are rewritten when it returns')
  state.redisDown = true
}
