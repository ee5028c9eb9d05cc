/**
 * One consumer group on this instance: a kafkajs consumer that hands every record, in partition order,
 * to the Deliverer and commits a record's offset only after delivery finished (delivered or
 * dead-lettered). An aborted delivery (stop, rebalance, shutdown) leaves the rest of the batch
 * unresolved, so it is fetched again — by this member or by whoever owns the partition next.
 *
 * Commits: one at a time per consumer (shared by its partitions), started without waiting for it once
 * COMMIT_TRIGGER_RECORDS finished records are not yet in a commit, or a second after the last one began
 * (also while a delivery waits on a slow or down endpoint, from the deliverer's heartbeat), and at the end
 * of every batch. A partition that finishes a record while COMMIT_EVERY_RECORDS or more finished records
 * are not yet committed waits for the commit under way before it delivers the next one. So a crash
 * re-delivers at most the records in flight (one per partition) plus fewer than
 * COMMIT_EVERY_RECORDS + concurrency finished but uncommitted ones — and delivery does not stop for a
 * broker round trip while commits keep up.
 *
 * Status: counters per partition (delivered, dead-lettered, in flight from the deliveries themselves;
 * retries, last status and last error from the deliverer's events, routed here by the supervisor) and the
 * lag the supervisor measures (lag.ts) feed GET /consumer-groups/{groupId} and the metrics.
 *
 * Round-robin groups use kafkajs' RoundRobinAssigner; partition-assigned groups the `custom-assigner`
 * (src/kafka/partition-assigner.ts) with this instance's declared partitions. Tombstones (null
 * values) are delivered like any record (syrup-kafka skipped them and committed their offsets).
 */
import kafkajs, { type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage } from 'kafkajs'
import type { Logger } from 'pino'
import { declaredPartitionAssigner } from '../kafka/partition-assigner.js'
import { isMembershipError } from '../kafka/membership.js'
import type { TopicPart } from '../registry/registry.js'
import { toConsumedRecord } from '../webhooks/envelope.js'
import type { Deliverer, DeliveryEvent } from '../webhooks/types.js'
import { sleep, withTimeout } from '../util/async.js'
import { declaredPartitions } from './definition.js'
import type { LagTarget, PartitionLag } from './lag.js'
import type { Declaration } from './store.js'

const { PartitionAssigners } = kafkajs

export type RunnerState = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed'

/**
 * Kafka commits offsets after this many delivered (or dead-lettered) records, and at least once a second:
 * a crash re-delivers at most this many records (plus one per partition in flight and one per partition
 * whose commit was under way) besides those in flight.
 */
export const COMMIT_EVERY_RECORDS = 50
export const COMMIT_INTERVAL_MS = 1000
/**
 * A commit starts (in the background) once this many finished records are in none yet: ahead of the
 * COMMIT_EVERY_RECORDS bound, so deliveries go on while it is under way.
 */
export const COMMIT_TRIGGER_RECORDS = 25
/** kafkajs heartbeats only every heartbeatInterval anyway: asking more often than this costs awaits for nothing. */
const HEARTBEAT_CHECK_MS = 100

/** The commits of one consumer generation, shared by the partitions it delivers. */
interface CommitState {
  /** Finished (resolved) records in no commit request yet. */
  unrequested: number
  /** Finished records in the commit under way. */
  requested: number
  inFlight: Promise<void> | undefined
  /** performance.now() when the last commit began. */
  lastStartedAt: number
}

function newCommitState (): CommitState {
  return { unrequested: 0, requested: 0, inFlight: undefined, lastStartedAt: performance.now() }
}

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
  state: RunnerState
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
export function emptyStatus (state: RunnerState = 'stopped'): RunnerStatus {
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

export interface JoinInfo {
  groupId: string
  memberId: string
  leaderId: string
  isLeader: boolean
  groupProtocol: string
  memberAssignment: Record<string, number[]>
}

export interface RunnerDeps {
  kafka: Kafka
  deliverer: Deliverer
  logger: Logger
  /** After every join/rebalance, with this member's parts of the registry entry (topics with partitions only). */
  onJoin: (groupId: string, parts: TopicPart[], join: JoinInfo) => void
  /** The consumer crashed for good (kafkajs will not restart it); the supervisor starts a new one later. */
  onFailed: (groupId: string, error: Error) => void
}

export interface GroupRunner {
  readonly groupId: string
  readonly declaration: Declaration
  /** Whether the group joined at least once since start. */
  readonly joined: boolean
  readonly state: RunnerState
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

function errorText (err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

export function createGroupRunner (groupId: string, declaration: Declaration, deps: RunnerDeps): GroupRunner {
  const def = declaration.definition
  const log = deps.logger.child({ component: 'consumer', groupId })
  const topics = def.topics.map(t => t.name)
  let state: RunnerState = 'starting'
  let joined = false
  let running = false
  let lastError: string | null = null
  let lastStatus: number | null = null
  let delivered = 0
  let retried = 0
  let deadLettered = 0
  let errors = 0
  let inFlight = 0
  let lagUpdatedAt: string | null = null
  /** Per `topic\u0000partition`; `next` is the offset after the last record finished here (this generation). */
  const stats = new Map<string, PartitionStatus & { next: bigint | undefined }>()
  let assignment: Record<string, number[]> = {}
  let parts: TopicPart[] = []
  let updatedAtMs = Date.now()
  let consumer: Consumer | undefined
  // aborted when this member's generation ends (rebalance, stop); deliveries in flight give up uncommitted
  let generation = new AbortController()
  let commits = newCommitState()
  let stopping: Promise<void> | undefined
  let starting: Promise<void> | undefined
  // set by stop(graceMs): batches start no further record and wait on it, so nothing is fetched again
  let finishing: Promise<void> | undefined
  let onIdle: (() => void) | undefined

  const touch = (): void => { updatedAtMs = Date.now() }

  /** The same entries as `stats`, by topic then partition: the per-event lookup builds no key string. */
  const statsByTopic = new Map<string, Map<number, PartitionStatus & { next: bigint | undefined }>>()

  function statsOf (topic: string, partition: number): PartitionStatus & { next: bigint | undefined } {
    let byPartition = statsByTopic.get(topic)
    if (byPartition === undefined) {
      byPartition = new Map()
      statsByTopic.set(topic, byPartition)
    }
    let s = byPartition.get(partition)
    if (s === undefined) {
      s = { topic, partition, assigned: false, delivered: 0, retried: 0, deadLettered: 0, inFlight: 0, lastStatus: null, lastError: null, lag: null, committedOffset: null, highWatermark: null, next: undefined }
      byPartition.set(partition, s)
      stats.set(`${topic}\u0000${partition}`, s)
    }
    return s
  }

  /** Marks the partitions of `assignment` as held here (creating their entries), every other one as not. */
  function markAssigned (): void {
    for (const s of stats.values()) {
      s.assigned = false
      s.lag = null
      s.next = undefined
    }
    for (const [topic, list] of Object.entries(assignment)) for (const p of list) statsOf(topic, p).assigned = true
  }

  function partitionStatuses (): PartitionStatus[] {
    return [...stats.values()]
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
      .map(({ next: _next, ...s }) => ({ ...s }))
  }

  function totalLag (): number | null {
    let sum: number | null = null
    for (const s of stats.values()) if (s.assigned && s.lag !== null) sum = (sum ?? 0) + s.lag
    return sum
  }

  function newGeneration (reason: string): void {
    generation.abort(new Error(reason))
    generation = new AbortController()
    commits = newCommitState()
  }

  async function eachBatch ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, uncommittedOffsets, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const signal = generation.signal
    const current = generation
    const cs = commits
    // a membership error means a rebalance began: end this generation's deliveries now (the deliverer
    // sees the signal), rejoin once the batch returns
    const endGeneration = (err: unknown): void => { if (!current.signal.aborted) current.abort(err) }
    /** Commits every resolved offset, or joins the commit under way (one at a time per generation). */
    const startCommit = (): Promise<void> => {
      if (cs.inFlight !== undefined) return cs.inFlight
      cs.requested = cs.unrequested
      cs.unrequested = 0
      cs.lastStartedAt = performance.now()
      const p = commitOffsetsIfNecessary(uncommittedOffsets()).then(() => {
        cs.requested = 0
        cs.inFlight = undefined
      }, (err: unknown) => {
        cs.unrequested += cs.requested
        cs.requested = 0
        cs.inFlight = undefined
        throw err
      })
      cs.inFlight = p
      return p
    }
    const commitDue = (): boolean => cs.inFlight === undefined && cs.unrequested > 0 &&
      (cs.unrequested >= COMMIT_TRIGGER_RECORDS || performance.now() - cs.lastStartedAt >= COMMIT_INTERVAL_MS)
    const backgroundCommitFailed = (err: unknown): void => {
      if (isMembershipError(err)) endGeneration(err)
      else log.debug({ err }, 'commit failed; retried with the next one')
    }
    // called by the deliverer every second or so while a delivery waits (slow or down endpoint): keeps the
    // membership, and commits what this batch already resolved, so a crash during a long outage
    // re-delivers only the record in flight
    const guardedHeartbeat = async (): Promise<void> => {
      try {
        await heartbeat()
      } catch (err) {
        // only a membership error ends the generation: a transient one (broker restarting, coordinator
        // moving) is retried by the next heartbeat, and nothing renews a generation but a rejoin
        if (isMembershipError(err)) endGeneration(err)
        throw err
      }
      try {
        if (cs.inFlight !== undefined) await cs.inFlight
        else if (commitDue()) await startCommit()
      } catch (err) {
        if (!isMembershipError(err)) {
          log.debug({ err }, 'could not commit while a delivery waits; retried on the next heartbeat')
          return
        }
        endGeneration(err)
        throw err
      }
    }
    const fetchedAt = performance.now()
    const pstats = statsOf(batch.topic, batch.partition)
    let resolved = false
    let heartbeatCheckedAt = 0
    try {
      const messages = batch.messages
      // webhook.batchSize > 1: consecutive records of this batch go in one request
      const size = def.webhook.batchSize ?? 1
      const ctx = { groupId, webhook: def.webhook, signal, heartbeat: guardedHeartbeat, fetchedAt }
      for (let i = 0; i < messages.length; i += size) {
        if (!isRunning() || isStale() || signal.aborted) return
        if (finishing !== undefined) {
          await finishing
          return
        }
        const message = messages[i] as KafkaMessage
        const chunk = size === 1 ? undefined : messages.slice(i, i + size)
        const n = chunk?.length ?? 1
        const lastOffset = chunk === undefined ? message.offset : (chunk[n - 1] as KafkaMessage).offset
        const where = n === 1 ? message.offset : `${message.offset}-${lastOffset}`
        let outcome
        pstats.inFlight += n
        inFlight += n
        try {
          outcome = chunk === undefined
            ? await deps.deliverer.deliver(toConsumedRecord(batch.topic, batch.partition, message), ctx)
            : await deps.deliverer.deliverBatch(chunk.map(m => toConsumedRecord(batch.topic, batch.partition, m)), ctx)
        } catch (err) {
          errors++
          lastError = `delivery failed: ${errorText(err)}`
          pstats.lastError = lastError
          touch()
          log.error({ event: 'ERROR', err, topic: batch.topic, partition: batch.partition, offset: where }, 'delivery failed; the record will be retried')
          await sleep(1000, signal)
          return
        } finally {
          pstats.inFlight -= n
          inFlight -= n
          if (inFlight === 0) onIdle?.()
        }
        if (outcome.outcome === 'aborted') return
        if (outcome.outcome === 'delivered') {
          delivered += n
          pstats.delivered += n
        } else {
          deadLettered += n
          pstats.deadLettered += n
          pstats.lastError = `dead-lettered offset ${where}: ${outcome.error}`
          lastError = `dead-lettered ${batch.topic}/${batch.partition}@${where}: ${outcome.error}`
        }
        if (!signal.aborted) pstats.next = BigInt(lastOffset) + 1n
        touch()
        resolveOffset(lastOffset)
        resolved = true
        cs.unrequested += n
        if (commitDue()) startCommit().catch(backgroundCommitFailed)
        try {
          // the redelivery bound: no further record while COMMIT_EVERY_RECORDS finished ones are uncommitted
          while (cs.unrequested + cs.requested >= COMMIT_EVERY_RECORDS) await startCommit()
          const t = performance.now()
          if (t - heartbeatCheckedAt >= HEARTBEAT_CHECK_MS) {
            heartbeatCheckedAt = t
            await heartbeat()
          }
        } catch (err) {
          // the record is resolved; return so kafkajs refetches from there. A transient error must not end
          // the generation: with no rebalance coming, the consumer would return every batch at once for good
          if (isMembershipError(err)) endGeneration(err)
          else log.debug({ err }, 'commit or heartbeat failed; the batch is fetched again')
          return
        }
      }
    } finally {
      // what was delivered is committed before the batch ends, so a stop or restart never re-delivers it
      if (resolved) {
        try {
          if (cs.inFlight !== undefined) await cs.inFlight.catch(() => {})
          if (cs.unrequested > 0) await startCommit()
        } catch (err) {
          log.debug({ err }, 'could not commit at the end of a batch (rebalance?); those records may be delivered again')
        }
      }
    }
  }

  function onJoin (payload: JoinInfo): void {
    const memberAssignment: Record<string, number[]> = {}
    for (const [topic, list] of Object.entries(payload.memberAssignment)) {
      if (list.length > 0) memberAssignment[topic] = [...list].sort((a, b) => a - b)
    }
    assignment = memberAssignment
    markAssigned()
    parts = Object.entries(memberAssignment).map(([topic, partitions]) => ({
      topic,
      groupId,
      memberId: payload.memberId,
      leaderId: payload.leaderId,
      isLeader: payload.isLeader,
      groupProtocol: payload.groupProtocol,
      partitions
    }))
    joined = true
    running = true
    if (state === 'starting') state = 'running'
    touch()
    deps.onJoin(groupId, parts, { ...payload, memberAssignment })
  }

  async function disconnect (): Promise<void> {
    try {
      await consumer?.disconnect()
    } catch (err) {
      log.warn({ err }, 'consumer disconnect failed')
    }
  }

  function fail (err: unknown, message: string): void {
    state = 'failed'
    running = false
    lastError = errorText(err)
    touch()
    log.error({ event: 'ERROR', err }, message)
    deps.onFailed(groupId, err instanceof Error ? err : new Error(String(err)))
  }

  async function run (): Promise<void> {
    let c: Consumer
    try {
      c = deps.kafka.consumer({
        groupId,
        partitionAssigners: def.isPartitionAssign
          ? [declaredPartitionAssigner(declaredPartitions(def))]
          : [PartitionAssigners.roundRobin],
        sessionTimeout: def.consumer.sessionTimeoutMs,
        heartbeatInterval: def.consumer.heartbeatIntervalMs,
        rebalanceTimeout: def.consumer.rebalanceTimeoutMs,
        maxWaitTimeInMs: def.consumer.maxWaitTimeMs,
        allowAutoTopicCreation: false
      })
    } catch (err) {
      fail(err, 'consumer could not be created')
      return
    }
    consumer = c
    c.on(c.events.GROUP_JOIN, ({ payload }) => {
      newGeneration('new group generation')
      onJoin(payload)
    })
    c.on(c.events.REBALANCING, () => {
      newGeneration('group is rebalancing')
      running = false
      touch()
    })
    c.on(c.events.CRASH, ({ payload }) => {
      running = false
      lastError = errorText(payload.error)
      touch()
      if (state === 'stopping' || state === 'stopped') {
        // kafkajs schedules its own restart after a retriable crash: cancel it (stop clears the timer)
        if (payload.restart) setTimeout(() => { void c.stop().catch(() => {}) }, 0)
        return
      }
      log.error({ event: 'ERROR', err: payload.error, restart: payload.restart }, payload.restart ? 'consumer crashed; kafkajs restarts it' : 'consumer crashed')
      if (!payload.restart) {
        state = 'failed'
        deps.onFailed(groupId, payload.error)
      }
    })
    try {
      await c.connect()
      await c.subscribe({ topics, fromBeginning: def.fromBeginning })
      if (state !== 'starting') return // stopped meanwhile
      await c.run({
        autoCommit: true,
        autoCommitInterval: COMMIT_INTERVAL_MS,
        autoCommitThreshold: COMMIT_EVERY_RECORDS,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: def.concurrency,
        eachBatch
      })
    } catch (err) {
      if (state === 'stopping' || state === 'stopped') return
      await disconnect()
      fail(err, 'consumer failed to start')
    }
  }

  return {
    groupId,
    declaration,
    get joined () { return joined },
    get state () { return state },
    parts: () => parts,
    status: () => ({
      state,
      running,
      lastError,
      delivered,
      retried,
      deadLettered,
      errors,
      inFlight,
      lastStatus,
      lag: totalLag(),
      lagUpdatedAt,
      partitions: assignment,
      byPartition: partitionStatuses(),
      updatedAt: new Date(updatedAtMs).toISOString()
    }),
    observe (e) {
      // only attempts and retries change what this keeps (delivered and dead-lettered are counted by eachBatch)
      if ((e.kind !== 'attempt' && e.kind !== 'retry-scheduled') || e.groupId !== groupId || !topics.includes(e.topic)) return
      if (e.kind === 'attempt') {
        const s = statsOf(e.topic, e.partition)
        s.lastStatus = e.status ?? null
        lastStatus = s.lastStatus
        if (e.error !== undefined) {
          s.lastError = `offset ${e.offset ?? '?'}, attempt ${e.attempt ?? '?'}: ${e.error}`
          lastError = `${e.topic}/${e.partition}@${e.offset ?? '?'} attempt ${e.attempt ?? '?'}: ${e.error}`
        }
        touch()
      } else if (e.kind === 'retry-scheduled') {
        statsOf(e.topic, e.partition).retried++
        retried++
        touch()
      }
    },
    lagTarget: () => ({
      groupId,
      fromBeginning: def.fromBeginning,
      assignment: running ? assignment : {},
      nextOffset: (topic, partition) => stats.get(`${topic}\u0000${partition}`)?.next
    }),
    applyLag (lag, at) {
      for (const l of lag) {
        const s = stats.get(`${l.topic}\u0000${l.partition}`)
        if (s === undefined || !s.assigned) continue
        s.lag = l.lag
        s.committedOffset = l.committedOffset
        s.highWatermark = l.highWatermark
      }
      lagUpdatedAt = at.toISOString()
    },
    start () {
      starting ??= run()
      return starting
    },
    async stop (graceMs = 0) {
      stopping ??= (async () => {
        if (state !== 'failed') state = 'stopping'
        touch()
        if (graceMs > 0 && inFlight > 0 && !generation.signal.aborted) {
          log.info({ inFlight, graceMs }, 'stopping: deliveries in flight may finish first')
          let release: () => void = () => {}
          finishing = new Promise<void>(resolve => { release = resolve })
          onIdle = release
          const timer = setTimeout(release, graceMs)
          await finishing
          clearTimeout(timer)
          onIdle = undefined
          if (inFlight > 0) log.warn({ inFlight }, 'stopping: deliveries still in flight after the grace are aborted (delivered again later)')
        } else {
          finishing = Promise.resolve()
        }
        running = false
        generation.abort(new Error('consumer stopping'))
        touch()
        await disconnect()
        // a join in progress may still be settling: wait for start to finish, then make sure
        if (starting !== undefined) {
          await withTimeout(starting, 15_000, 'start did not settle').catch(() => {})
          await disconnect()
        }
        state = 'stopped'
        assignment = {}
        markAssigned()
        parts = []
        touch()
      })()
      return await stopping
    }
  }
}
