/**
 * One consumer group on this instance: a kafkajs consumer that hands every record, in partition order,
 * to the Deliverer and commits a record's offset only after delivery finished (delivered or
 * dead-lettered). An aborted delivery (stop, rebalance, shutdown) leaves the rest of the batch
 * unresolved, so it is fetched again — by this member or by whoever owns the partition next.
 *
 * Round-robin groups use kafkajs' RoundRobinAssigner; partition-assigned groups the `custom-assigner`
 * (src/kafka/partition-assigner.ts) with this instance's declared partitions. Tombstones (null
 * values) are delivered like any record (syrup-kafka skipped them and committed their offsets).
 */
import kafkajs, { type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage } from 'kafkajs'
import type { Logger } from 'pino'
import { declaredPartitionAssigner } from '../kafka/partition-assigner.js'
import type { TopicPart } from '../registry/registry.js'
import type { ConsumedRecord, Deliverer } from '../webhooks/types.js'
import { sleep, withTimeout } from '../util/async.js'
import { declaredPartitions } from './definition.js'
import type { Declaration } from './store.js'

const { PartitionAssigners } = kafkajs

export type RunnerState = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed'

export interface RunnerStatus {
  state: RunnerState
  /** Joined the group and consuming. */
  running: boolean
  lastError: string | null
  delivered: number
  deadLettered: number
  /** Deliveries that threw (retried from the last committed offset). */
  errors: number
  /** Partitions assigned to this instance, per topic. */
  partitions: Record<string, number[]>
  updatedAt: string
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
  start (): Promise<void>
  /** Aborts deliveries in flight (not committed: re-delivered later), leaves the group, disconnects. */
  stop (): Promise<void>
}

function errorText (err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

export function toConsumedRecord (topic: string, partition: number, message: KafkaMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    timestamp: message.timestamp,
    key: message.key ?? null,
    value: message.value ?? null,
    headers: message.headers ?? {}
  }
}

export function createGroupRunner (groupId: string, declaration: Declaration, deps: RunnerDeps): GroupRunner {
  const def = declaration.definition
  const log = deps.logger.child({ component: 'consumer', groupId })
  const topics = def.topics.map(t => t.name)
  let state: RunnerState = 'starting'
  let joined = false
  let running = false
  let lastError: string | null = null
  let delivered = 0
  let deadLettered = 0
  let errors = 0
  let assignment: Record<string, number[]> = {}
  let parts: TopicPart[] = []
  let updatedAt = new Date().toISOString()
  let consumer: Consumer | undefined
  // aborted when this member's generation ends (rebalance, stop); deliveries in flight give up uncommitted
  let generation = new AbortController()
  let stopping: Promise<void> | undefined
  let starting: Promise<void> | undefined

  const touch = (): void => { updatedAt = new Date().toISOString() }

  function newGeneration (reason: string): void {
    generation.abort(new Error(reason))
    generation = new AbortController()
  }

  async function eachBatch ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, uncommittedOffsets, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const signal = generation.signal
    const current = generation
    // a membership error means a rebalance began: end this generation's deliveries now (the deliverer
    // sees the signal), rejoin once the batch returns
    const endGeneration = (err: unknown): void => { if (!current.signal.aborted) current.abort(err) }
    const guardedHeartbeat = async (): Promise<void> => {
      try {
        await heartbeat()
      } catch (err) {
        endGeneration(err)
        throw err
      }
    }
    const fetchedAt = performance.now()
    let resolved = false
    try {
      for (const message of batch.messages) {
        if (!isRunning() || isStale() || signal.aborted) return
        const record = toConsumedRecord(batch.topic, batch.partition, message)
        let outcome
        try {
          outcome = await deps.deliverer.deliver(record, { groupId, webhook: def.webhook, signal, heartbeat: guardedHeartbeat, fetchedAt })
        } catch (err) {
          errors++
          lastError = `delivery failed: ${errorText(err)}`
          touch()
          log.error({ event: 'ERROR', err, topic: batch.topic, partition: batch.partition, offset: message.offset }, 'delivery failed; the record will be retried')
          await sleep(1000, signal)
          return
        }
        if (outcome.outcome === 'aborted') return
        if (outcome.outcome === 'delivered') delivered++
        else {
          deadLettered++
          lastError = `dead-lettered ${batch.topic}/${batch.partition}@${message.offset}: ${outcome.error}`
        }
        touch()
        resolveOffset(message.offset)
        resolved = true
        try {
          await commitOffsetsIfNecessary()
          await heartbeat()
        } catch (err) {
          endGeneration(err)
          return
        }
      }
    } finally {
      // what was delivered is committed before the batch ends, so a stop or restart never re-delivers it
      if (resolved) {
        try {
          await commitOffsetsIfNecessary(uncommittedOffsets())
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
        autoCommitInterval: 1000,
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
    status: () => ({ state, running, lastError, delivered, deadLettered, errors, partitions: assignment, updatedAt }),
    start () {
      starting ??= run()
      return starting
    },
    async stop () {
      stopping ??= (async () => {
        if (state !== 'failed') state = 'stopping'
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
        parts = []
        touch()
      })()
      return await stopping
    }
  }
}
