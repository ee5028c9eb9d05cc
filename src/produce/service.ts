/**
 * The produce service: POST /messages without HTTP. A request is checked and encoded (plan.ts), its
 * topic looked up (404, or created when AUTO_CREATE_TOPICS=true), every record given an explicit
 * partition (`partitions` copies, `arrival` routing, or kafkajs' default murmur2/round-robin
 * partitioner), then handed to the coalescing batcher, which answers with each record's offset.
 */
import kafkajs, { type Admin, type PartitionMetadata, type Producer } from 'kafkajs'
import type { Logger } from 'pino'
import type { Config } from '../config/env.js'
import { AppError, kafkaUnavailable } from '../errors.js'
import { isStaleMetadataError } from '../kafka/core.js'
import { ARRIVAL_HEADER, DEPARTURE_HEADER, REQUEST_ID_HEADER } from '../kafka/record-format.js'
import { partitionOutOfRange, topicNameProblem, topicNotFound, type TopicMetadataCache } from '../kafka/topics.js'
import { arrivalUnroutable, type ArrivalResolver, type ArrivalRoute } from '../registry/arrival.js'
import { createBatcher, RECORD_BATCH_OVERHEAD_BYTES, type BatcherStats, type OutRecord } from './batcher.js'
import { headerBytes } from './encoding.js'
import { assertIdempotencyKey, bodyHash, type IdempotencyStore } from './idempotency.js'
import { mapKafkaError } from './kafka-errors.js'
import { normalizeRequest, type EncodedMessage } from './plan.js'
import { sleep } from '../util/async.js'
import type { ProduceEvent, ProduceObserver, ProduceOutcome, ProduceRequestInput, ProduceResponse, ProduceWarning, RecordResult } from './types.js'

const { Partitioners, ConfigResourceTypes } = kafkajs

/** Kafka's default max.message.bytes (message.max.bytes), used when a topic's cannot be read. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588
const LIMIT_TTL_MS = 60_000

/** What the service needs from the Kafka core (src/kafka/core.ts). */
export interface ProduceKafka {
  readonly clientId: string
  connectedProducer (): Promise<Producer>
  connectedAdmin (): Promise<Admin>
}

export interface ProduceServiceDeps {
  kafka: ProduceKafka
  topics: TopicMetadataCache
  arrival: ArrivalResolver
  /** Without it, an Idempotency-Key header is refused with 503 (Redis-less setups). */
  idempotency?: IdempotencyStore
  config: Config['produce']
  logger: Logger
  /** Called after every Kafka batch and every request: the metrics hook. */
  observer?: ProduceObserver
}

export interface ProduceContext {
  /** The HTTP request id: written to every record as `x-request-id`. */
  requestId: string
  idempotencyKey?: string
}

export interface ProduceService {
  produce (request: ProduceRequestInput, ctx: ProduceContext): Promise<ProduceOutcome>
  /** Sends gathering batches now (shutdown begins). */
  flush (): void
  /** Flushes, waits for batches in flight, refuses new produces. */
  close (): Promise<void>
  stats (): BatcherStats
  /** Adds a metrics hook (batch and request events); returns its removal. */
  observe (observer: ProduceObserver): () => void
}

const recordTooLarge = (field: string, topic: string, bytes: number, limit: number): AppError =>
  new AppError(413, 'GW_PAYLOAD_TOO_LARGE', `${field}: the record takes up to ${bytes} bytes, more than topic "${topic}" accepts (max.message.bytes ${limit})`,
    { details: [{ field, rule: 'maxMessageBytes', message: `topic "${topic}" accepts records up to ${limit} bytes`, maxMessageBytes: limit }] })

export function createProduceService (deps: ProduceServiceDeps): ProduceService {
  const { kafka, topics, arrival, idempotency, config } = deps
  const log = deps.logger.child({ component: 'produce' })
  const observers = new Set<ProduceObserver>(deps.observer !== undefined ? [deps.observer] : [])
  const emit = (event: ProduceEvent): void => {
    for (const o of observers) {
      try { o(event) } catch (err) { log.warn({ err }, 'produce observer threw') }
    }
  }
  const partitioner = Partitioners.DefaultPartitioner()
  const metadataOf = new WeakMap<number[], PartitionMetadata[]>()
  const creating = new Map<string, Promise<number[]>>()
  const limits = new Map<string, { at: number, value: Promise<number> }>()

  const batcher = createBatcher({
    getProducer: () => kafka.connectedProducer(),
    lingerMs: config.lingerMs,
    maxBatchRecords: config.maxBatchRecords,
    maxBatchBytes: config.maxBatchBytes,
    mapError: (err, t) => mapKafkaError(err, { topics: t }),
    observer: emit,
    onResend: (records, attempt) => { log.warn({ records, attempt }, 'Kafka answered a batch without some partitions (leader moved); sending their records again') }
  })

  /** kafkajs' partitioner wants partition metadata; ids are enough for it (leader only marks availability). */
  function partitionMetadata (ids: number[]): PartitionMetadata[] {
    let meta = metadataOf.get(ids)
    if (meta === undefined) {
      meta = ids.map(partitionId => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }))
      metadataOf.set(ids, meta)
    }
    return meta
  }

  async function createTopic (topic: string): Promise<number[]> {
    const admin = await kafka.connectedAdmin()
    // no partition count or replication factor: the broker's num.partitions / default.replication.factor apply
    const created = await admin.createTopics({ topics: [{ topic }], waitForLeaders: true })
    log.info({ topic, created }, created ? 'created topic on first produce (AUTO_CREATE_TOPICS=true)' : 'topic appeared while creating it')
    for (let attempt = 0; attempt < 20; attempt++) {
      topics.invalidate(topic)
      const ids = await topics.partitions(topic)
      if (ids !== undefined && ids.length > 0) return ids
      await sleep(100)
    }
    throw kafkaUnavailable(`topic "${topic}" was created but its metadata is not visible yet; retry`)
  }

  async function partitionsOf (topic: string): Promise<number[]> {
    try {
      const ids = await topics.partitions(topic)
      if (ids !== undefined && ids.length > 0) return ids
      if (!config.autoCreateTopics) throw topicNotFound(topic)
      let pending = creating.get(topic)
      if (pending === undefined) {
        pending = createTopic(topic).finally(() => creating.delete(topic))
        creating.set(topic, pending)
      }
      return await pending
    } catch (err) {
      throw mapKafkaError(err, { topics: [topic] })
    }
  }

  /** The topic's max.message.bytes (cached a minute); Kafka's default when it cannot be read. */
  function partitionLimit (topic: string): Promise<number> {
    const hit = limits.get(topic)
    if (hit !== undefined && Date.now() - hit.at < LIMIT_TTL_MS) return hit.value
    const value = (async () => {
      try {
        const admin = await kafka.connectedAdmin()
        const { resources } = await admin.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }]
        })
        const entry = resources[0]?.configEntries.find(e => e.configName === 'max.message.bytes')
        const n = Number(entry?.configValue)
        return Number.isInteger(n) && n > 0 ? n : DEFAULT_MAX_MESSAGE_BYTES
      } catch (err) {
        log.warn({ err, topic }, 'cannot read the topic\'s max.message.bytes; assuming Kafka\'s default')
        limits.delete(topic)
        return DEFAULT_MAX_MESSAGE_BYTES
      }
    })()
    limits.set(topic, { at: Date.now(), value })
    if (limits.size > 10_000) {
      for (const [t, e] of limits) if (Date.now() - e.at >= LIMIT_TTL_MS) limits.delete(t)
    }
    return value
  }

  /**
   * A batch that failed on stale topic metadata (the topic deleted since the cache saw it, say): the
   * cache is refreshed, and a topic that is gone answers as any unknown topic does (404).
   */
  async function explainSendFailure (err: unknown, topic: string): Promise<unknown> {
    if (!isStaleMetadataError(err)) return err
    topics.invalidate(topic)
    let ids: number[] | undefined
    try {
      ids = await topics.partitions(topic)
    } catch {
      return err
    }
    if (ids !== undefined) return err
    return new AppError(404, 'GW_TOPIC_NOT_FOUND', `topic "${topic}" does not exist: it was deleted before the records were written`,
      { cause: err, details: [{ field: 'body/topic', rule: 'topicExists', message: `topic "${topic}" does not exist` }] })
  }

  async function produceOnce (request: ProduceRequestInput, ctx: ProduceContext): Promise<{ status: 200 | 202, body: ProduceResponse }> {
    const started = performance.now()
    try {
      return await write(request, ctx, started)
    } catch (err) {
      if (observers.size > 0) {
        const topic = typeof request?.topic === 'string' && topicNameProblem(request.topic) === undefined ? request.topic : ''
        emit({ kind: 'request', topic, records: 0, bytes: 0, status: err instanceof AppError ? err.statusCode : 500, durationMs: performance.now() - started })
      }
      throw err
    }
  }

  async function write (request: ProduceRequestInput, ctx: ProduceContext, started: number): Promise<{ status: 200 | 202, body: ProduceResponse }> {
    const { topic, messages, options } = normalizeRequest(request)
    const ids = await partitionsOf(topic)
    const limit = await partitionLimit(topic)
    const idSet = new Set(ids)
    const perPartition = new Map<number, number>()
    const fixedHeaderBytes = headerBytes(DEPARTURE_HEADER, kafka.clientId) + headerBytes(REQUEST_ID_HEADER, ctx.requestId)
    const warnings: ProduceWarning[] = []
    const routes = new Map<string, Promise<ArrivalRoute>>()
    const records: OutRecord[] = []
    const indexes: number[] = []

    const route = (m: EncodedMessage, clientId: string): Promise<ArrivalRoute> => {
      let r = routes.get(clientId)
      if (r === undefined) {
        r = arrival.resolve(clientId, topic, `${m.prefix}/arrival`)
        routes.set(clientId, r)
      }
      return r
    }

    for (const m of messages) {
      const headers: Record<string, string> = { ...m.headers, [DEPARTURE_HEADER]: kafka.clientId, [REQUEST_ID_HEADER]: ctx.requestId }
      let targets: number[]
      if (m.partitions !== undefined) {
        m.partitions.forEach((p, j) => {
          if (!idSet.has(p)) throw partitionOutOfRange(`${m.prefix}/partitions/${j}`, topic, p, ids.length)
        })
        targets = m.partitions
        if (m.arrival !== undefined) {
          warnings.push({ code: 'ARRIVAL_IGNORED', field: `${m.prefix}/arrival`, message: '`arrival` was ignored because `partitions` is given (partitions win)' })
        }
      } else if (m.arrival !== undefined) {
        const r = await route(m, m.arrival)
        const outside = r.partitions.find(p => !idSet.has(p))
        if (outside !== undefined) {
          throw arrivalUnroutable(`${m.prefix}/arrival`, 'partitionAssigned',
            `client "${m.arrival}" is registered for partition ${outside}, but topic "${topic}" has ${ids.length} partitions`)
        }
        targets = r.partitions
        headers[ARRIVAL_HEADER] = m.arrival
      } else {
        targets = [partitioner({ topic, partitionMetadata: partitionMetadata(ids), message: { key: m.key, value: m.value } })]
      }
      const bytes = m.bytes + fixedHeaderBytes + (m.arrival !== undefined && m.partitions === undefined ? headerBytes(ARRIVAL_HEADER, m.arrival) : 0)
      if (bytes + RECORD_BATCH_OVERHEAD_BYTES > limit) throw recordTooLarge(`${m.prefix}/value`, topic, bytes, limit)
      const payloadBytes = (m.key?.length ?? 0) + (m.value?.length ?? 0)
      for (const partition of targets) {
        records.push({ topic, partition, key: m.key, value: m.value, headers, bytes, payloadBytes, partitionLimit: limit })
        indexes.push(m.index)
        perPartition.set(partition, (perPartition.get(partition) ?? RECORD_BATCH_OVERHEAD_BYTES) + bytes)
      }
    }
    for (const [partition, total] of perPartition) {
      if (total > limit) {
        throw new AppError(413, 'GW_PAYLOAD_TOO_LARGE',
          `the request's records for partition ${partition} take up to ${total} bytes, more than topic "${topic}" accepts in one batch (max.message.bytes ${limit}); split the request`,
          { details: [{ field: 'body/messages', rule: 'maxMessageBytes', message: `at most ${limit} bytes per partition per request`, maxMessageBytes: limit }] })
      }
    }

    let offsets: Array<string | undefined>
    try {
      offsets = await batcher.send(records, options)
    } catch (err) {
      throw await explainSendFailure(err, topic)
    }
    const results: RecordResult[] = records.map((r, i) => {
      const res: RecordResult = { index: indexes[i] as number, topic: r.topic, partition: r.partition }
      const offset = offsets[i]
      if (offset !== undefined) res.offset = offset
      return res
    })
    const status = options.acks === 0 ? 202 : 200
    if (observers.size > 0) {
      let bytes = 0
      for (const r of records) bytes += r.payloadBytes
      emit({ kind: 'request', topic, records: records.length, bytes, status, durationMs: performance.now() - started })
    }
    return { status, body: warnings.length > 0 ? { results, warnings } : { results } }
  }

  return {
    async produce (request, ctx) {
      const key = ctx.idempotencyKey
      if (key === undefined) return { ...(await produceOnce(request, ctx)), replayed: false }
      assertIdempotencyKey(key)
      if (idempotency === undefined) throw new AppError(503, 'GW_REDIS_UNAVAILABLE', 'Idempotency-Key is not available on this gateway')
      const hash = bodyHash(request)
      const begun = await idempotency.begin(key, hash)
      if (begun.kind === 'replay') return { status: begun.status, body: begun.body, replayed: true }
      let outcome: { status: 200 | 202, body: ProduceResponse }
      try {
        outcome = await produceOnce(request, ctx)
      } catch (err) {
        await idempotency.release(key, begun.token, hash)
        throw err
      }
      await idempotency.complete(key, begun.token, hash, outcome.status, outcome.body)
      return { ...outcome, replayed: false }
    },
    flush: () => batcher.flush(),
    close: () => batcher.close(),
    stats: () => batcher.stats(),
    observe (observer) {
      observers.add(observer)
      return () => { observers.delete(observer) }
    }
  }
}
