/**
 * The kafkajs consumer of one pull instance, held by its owner. kafkajs cannot change a subscription of a
 * running consumer, so every new subscription or assignment builds a new consumer (polled but uncommitted
 * records are then fetched again from the committed offsets). An explicit assignment joins the group with
 * the `custom-assigner` protocol (kafkajs has no manual assign()), declaring exactly those partitions.
 */
import kafkajs, { type Consumer, type Kafka } from 'kafkajs'
import type { Logger } from 'pino'
import { declaredPartitionAssigner } from '../kafka/partition-assigner.js'
import type { TopicPart } from '../registry/registry.js'
import type { ConsumedRecord } from '../webhooks/types.js'
import { createPullBuffer, type PollLimits, type PullBuffer } from './buffer.js'
import type { PullSettings, PullSource, TopicPartitionRef } from './types.js'

const { PartitionAssigners } = kafkajs

/** Partitions handed to eachBatch at once: the buffer's bound is one fetched batch per partition. */
const CONCURRENT_PARTITIONS = 8

export interface LocalConsumer {
  readonly groupId: string
  readonly instanceId: string
  readonly source: PullSource
  /** This member's registry parts as of its last join (none before it joined). */
  parts (): TopicPart[]
  /** The partitions this member holds now. */
  assigned (): TopicPartitionRef[]
  /** Waits up to `timeoutMs` for a first record, then answers what is buffered, up to the limits. */
  poll (limits: PollLimits, timeoutMs: number): Promise<ConsumedRecord[]>
  /** The offsets after the last polled record of each partition. */
  polledOffsets (): Array<{ topic: string, partition: number, offset: string }>
  commit (offsets: Array<{ topic: string, partition: number, offset: string }>): Promise<void>
  seek (to: Array<{ topic: string, partition: number, offset: string }>): void
  close (): Promise<void>
}

export interface LocalConsumerDeps {
  kafka: Kafka
  logger: Logger
  /** After each join: the registry entry of this instance is rewritten. */
  onJoin: () => void
}

function declared (partitions: TopicPartitionRef[]): Record<string, number[]> {
  const out: Record<string, number[]> = {}
  for (const p of partitions) (out[p.topic] ??= []).push(p.partition)
  return out
}

function topicsOf (source: PullSource): string[] {
  if (source.kind === 'subscription') return source.topics
  if (source.kind === 'assignment') return [...new Set(source.partitions.map(p => p.topic))]
  return []
}

function build (kafka: Kafka, groupId: string, settings: PullSettings, source: PullSource): Consumer {
  const t = settings.consumer
  return kafka.consumer({
    groupId,
    partitionAssigners: source.kind === 'assignment' ? [declaredPartitionAssigner(declared(source.partitions))] : [PartitionAssigners.roundRobin],
    sessionTimeout: t.sessionTimeoutMs,
    heartbeatInterval: t.heartbeatIntervalMs,
    rebalanceTimeout: t.rebalanceTimeoutMs,
    maxWaitTimeInMs: t.maxWaitTimeMs,
    allowAutoTopicCreation: false
  })
}

/** Builds, connects and runs the consumer of `source`; rejects when Kafka refuses (the caller answers 503). */
export async function startLocalConsumer (deps: LocalConsumerDeps, ids: { groupId: string, instanceId: string }, settings: PullSettings, source: PullSource): Promise<LocalConsumer> {
  const log = deps.logger.child({ component: 'pull', groupId: ids.groupId, instanceId: ids.instanceId })
  const buffer: PullBuffer = createPullBuffer({ heartbeatMs: settings.consumer.heartbeatIntervalMs })
  let parts: TopicPart[] = []
  let consumer: Consumer | undefined
  if (source.kind !== 'none') {
    const c = build(deps.kafka, ids.groupId, settings, source)
    consumer = c
    c.on(c.events.GROUP_JOIN, ({ payload }) => {
      parts = Object.entries(payload.memberAssignment).filter(([, list]) => list.length > 0).map(([topic, list]) => ({
        topic, groupId: ids.groupId, memberId: payload.memberId, leaderId: payload.leaderId, isLeader: payload.isLeader, groupProtocol: payload.groupProtocol, partitions: [...list].sort((a, b) => a - b)
      }))
      buffer.forget((topic, partition) => parts.some(p => p.topic === topic && p.partitions.includes(partition)))
      log.info({ event: 'JOIN_GROUP', memberId: payload.memberId, assignment: payload.memberAssignment }, 'pull consumer joined its group')
      deps.onJoin()
    })
    c.on(c.events.CRASH, ({ payload }) => { log.error({ err: payload.error, restart: payload.restart }, 'pull consumer crashed') })
    try {
      await c.connect()
      await c.subscribe({ topics: topicsOf(source), fromBeginning: settings.autoOffsetReset === 'earliest' })
      await c.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: CONCURRENT_PARTITIONS, eachBatch: p => buffer.eachBatch(p) })
    } catch (err) {
      await c.disconnect().catch(() => {})
      throw err
    }
  }

  return {
    ...ids,
    source,
    parts: () => parts,
    assigned: () => parts.flatMap(p => p.partitions.map(partition => ({ topic: p.topic, partition }))),
    async poll (limits, timeoutMs) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const records = buffer.take(limits)
        const left = deadline - Date.now()
        if (records.length > 0 || left <= 0 || consumer === undefined) return records
        await buffer.waitForRecords(left)
      }
    },
    polledOffsets: () => [...buffer.polled.values()],
    async commit (offsets) {
      if (consumer === undefined || offsets.length === 0) return
      await consumer.commitOffsets(offsets)
    },
    seek (to) {
      if (consumer === undefined) return
      const hit = (topic: string, partition: number): boolean => to.some(s => s.topic === topic && s.partition === partition)
      buffer.drop(hit)
      buffer.forget((topic, partition) => !hit(topic, partition))
      for (const s of to) consumer.seek(s)
    },
    async close () {
      buffer.clear()
      await consumer?.disconnect().catch((err: unknown) => { log.warn({ err }, 'disconnecting a pull consumer failed') })
    }
  }
}
