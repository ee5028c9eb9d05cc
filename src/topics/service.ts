/**
 * Topics without HTTP: list, describe, create, delete, partition offsets and records by offset.
 *
 * Metadata, configs, creation and deletion go through the shared admin (its fast retries make an
 * unreachable cluster a prompt 503); it reads the metadata of all topics, never of one by name (that
 * would auto-create it on brokers with auto.create.topics.enable). Offsets and records are read by
 * short-lived clients (src/topics/reader.ts explains why).
 */
import kafkajs, { type Admin, type ITopicMetadata, type Kafka } from 'kafkajs'
import type { Logger } from 'pino'
import { AppError, fieldError } from '../errors.js'
import { assertTopicName, isInternalTopic, partitionOutOfRange } from '../kafka/topics.js'
import { sleep } from '../util/async.js'
import type { ConsumedRecord } from '../webhooks/types.js'
import { createTopic, type CreateTopicInput } from './create.js'
import { mapTopicError, unknownTopic } from './errors.js'
import { readPartition, withShortLivedAdmin, type ReaderDeps } from './reader.js'

const { ConfigResourceTypes, ConfigSource } = kafkajs

export interface TopicSummary { name: string, partitions: number, replicationFactor: number, internal: boolean }

export interface PartitionOffsets { partition: number, earliest: string, latest: string }

export interface PartitionView extends PartitionOffsets { leader: number, replicas: number[], isr: number[], offlineReplicas: number[] }

export interface TopicView extends Omit<TopicSummary, 'partitions'> {
  partitions: PartitionView[]
  /** Configs set on the topic (not defaults): name → value; null for a sensitive value. */
  configs: Record<string, string | null>
}

export interface RecordsPage { records: ConsumedRecord[], nextOffset: string }

export interface TopicService {
  list (opts: { internal: boolean }): Promise<TopicSummary[]>
  describe (topic: string): Promise<TopicView>
  create (input: CreateTopicInput): Promise<TopicSummary & { configs: TopicView['configs'] }>
  remove (topic: string): Promise<void>
  offsets (topic: string, partition: number): Promise<PartitionOffsets>
  /** Records from `offset` (default: the earliest), at most `limit`. */
  records (topic: string, partition: number, query: { offset?: string, limit: number }): Promise<RecordsPage>
}

export interface TopicServiceDeps {
  /** The shared admin, connected. */
  getAdmin: () => Promise<Admin>
  /** The client short-lived readers are made from. */
  kafka: Kafka
  clientId: string
  logger: Logger
  /** How long a records read may take (default READ_TIMEOUT_MS). */
  readTimeoutMs?: number
}

const summary = (t: ITopicMetadata): TopicSummary =>
  ({ name: t.name, partitions: t.partitions.length, replicationFactor: t.partitions[0]?.replicas.length ?? 0, internal: isInternalTopic(t.name) })

async function metadataOf (admin: Admin, topic: string): Promise<ITopicMetadata> {
  const found = (await admin.fetchTopicMetadata()).topics.find(t => t.name === topic)
  if (found === undefined || found.partitions.length === 0) throw unknownTopic(topic)
  return { ...found, partitions: [...found.partitions].sort((a, b) => a.partitionId - b.partitionId) }
}

/** The metadata of a topic just created: the broker answering may learn of it a moment after the controller. */
async function visible (admin: Admin, topic: string): Promise<ITopicMetadata> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await metadataOf(admin, topic)
    } catch (err) {
      if (attempt >= 20 || !(err instanceof AppError) || err.code !== 'GW_TOPIC_NOT_FOUND') throw err
      await sleep(100)
    }
  }
}

async function configsOf (admin: Admin, topic: string): Promise<TopicView['configs']> {
  const { resources } = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }], includeSynonyms: false })
  const entries = (resources[0]?.configEntries ?? []).filter(e => e.configSource === ConfigSource.TOPIC_CONFIG)
  return Object.fromEntries(entries.map(e => [e.configName, e.isSensitive ? null : e.configValue]))
}

/** Earliest and latest offsets of every partition, read by `admin` (a short-lived one: see reader.ts). */
async function offsetsOf (admin: Admin, topic: string): Promise<PartitionOffsets[]> {
  return (await admin.fetchTopicOffsets(topic)).map(o => ({ partition: o.partition, earliest: o.low, latest: o.high }))
}

async function partitionOffsets (admin: Admin, topic: string, partition: number): Promise<PartitionOffsets> {
  const found = (await offsetsOf(admin, topic)).find(o => o.partition === partition)
  if (found === undefined) throw unknownTopic(topic)
  return found
}

export function createTopicService (deps: TopicServiceDeps): TopicService {
  const { getAdmin, kafka } = deps
  const readerDeps: ReaderDeps = { kafka, clientId: deps.clientId, logger: deps.logger.child({ component: 'topic-reader' }), ...(deps.readTimeoutMs !== undefined ? { timeoutMs: deps.readTimeoutMs } : {}) }

  /** Runs `op` with its failures in the error model; `what` says what it does, e.g. `deleting topic "x"`. */
  async function on<T> (what: string, topic: string | undefined, op: () => Promise<T>): Promise<T> {
    try {
      return await op()
    } catch (err) {
      throw mapTopicError(err, what, topic)
    }
  }

  /** The topic's metadata, checking the name and that `partition` (when given) exists. */
  async function existing (topic: string, partition?: number): Promise<ITopicMetadata> {
    assertTopicName('params/topic', topic)
    const meta = await metadataOf(await getAdmin(), topic)
    if (partition !== undefined && !meta.partitions.some(p => p.partitionId === partition)) {
      throw partitionOutOfRange('params/partition', topic, partition, meta.partitions.length)
    }
    return meta
  }

  return {
    async list ({ internal }) {
      return await on('listing topics', undefined, async () => {
        const { topics } = await (await getAdmin()).fetchTopicMetadata()
        return topics.map(summary).filter(t => internal || !t.internal).sort((a, b) => a.name.localeCompare(b.name))
      })
    },

    async describe (topic) {
      return await on(`describing topic "${topic}"`, topic, async () => {
        const meta = await existing(topic)
        const [offsets, configs] = await Promise.all([withShortLivedAdmin(kafka, a => offsetsOf(a, topic)), configsOf(await getAdmin(), topic)])
        const partitions = meta.partitions.map(p => {
          const o = offsets.find(x => x.partition === p.partitionId)
          return { partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr, offlineReplicas: p.offlineReplicas ?? [], earliest: o?.earliest ?? '0', latest: o?.latest ?? '0' }
        })
        return { ...summary(meta), partitions, configs }
      })
    },

    async create (input) {
      return await on(`creating topic "${input.name}"`, undefined, async () => {
        const admin = await getAdmin()
        await createTopic(admin, input)
        const [meta, configs] = await Promise.all([visible(admin, input.name), configsOf(admin, input.name)])
        return { ...summary(meta), configs }
      })
    },

    async remove (topic) {
      await on(`deleting topic "${topic}"`, topic, async () => {
        if (isInternalTopic(topic)) throw fieldError('params/topic', 'internalTopic', `topic "${topic}" is internal (its name starts with "__"): the gateway does not delete it`)
        await existing(topic)
        await (await getAdmin()).deleteTopics({ topics: [topic] })
      })
    },

    async offsets (topic, partition) {
      return await on(`reading offsets of topic "${topic}"`, topic, async () => {
        await existing(topic, partition)
        return await withShortLivedAdmin(kafka, admin => partitionOffsets(admin, topic, partition))
      })
    },

    async records (topic, partition, query) {
      return await on(`reading records of topic "${topic}"`, topic, async () => {
        await existing(topic, partition)
        return await withShortLivedAdmin(kafka, async admin => {
          const { earliest, latest } = await partitionOffsets(admin, topic, partition)
          const requested = query.offset === undefined ? BigInt(earliest) : BigInt(query.offset)
          const start = requested < BigInt(earliest) ? BigInt(earliest) : requested
          if (start >= BigInt(latest)) return { records: [], nextOffset: latest }
          const read = await readPartition(readerDeps, admin, { topic, partition, start, latest: BigInt(latest), limit: query.limit })
          return { records: read.records, nextOffset: read.nextOffset.toString() }
        })
      })
    }
  }
}
