/** The produce service's dependencies and its state: ONE object, built once, that every produce step is handed. */
import kafkajs, { type Admin, type PartitionMetadata, type Producer } from 'kafkajs'
import type { Logger } from 'pino'
import type { Config } from '../config/env.js'
import { mapKafkaError } from '../kafka/error-mapping.js'
import type { TopicMetadataCache } from '../kafka/topics.js'
import type { ArrivalResolver } from '../registry/arrival.js'
import { createBatcher, type Batcher } from './batcher.js'
import type { IdempotencyStore } from './idempotency.js'
import type { ProduceEvent, ProduceObserver } from './types.js'

const { Partitioners } = kafkajs

/** What the service needs from the Kafka core (src/kafka/core.ts). */
export interface ProduceKafka {
  readonly clientId: string
  connectedProducer (acks?: number): Promise<Producer>
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

/** A topic's max.message.bytes as read, and when. */
export interface CachedLimit {
  at: number
  value: Promise<number>
}

export interface ProduceState {
  readonly kafka: ProduceKafka
  readonly topics: TopicMetadataCache
  readonly arrival: ArrivalResolver
  readonly idempotency: IdempotencyStore | undefined
  readonly config: Config['produce']
  /** The `component: 'produce'` child logger. */
  readonly log: Logger
  readonly observers: Set<ProduceObserver>
  /** kafkajs' default partitioner (murmur2 of the key, round-robin without one). */
  readonly partitioner: ReturnType<typeof Partitioners.DefaultPartitioner>
  /** The partitioner's metadata per partition-id list (the topic cache hands the same list until it refreshes). */
  readonly metadataOf: WeakMap<number[], PartitionMetadata[]>
  /** Topic creations under way (AUTO_CREATE_TOPICS=true): concurrent first produces share one. */
  readonly creating: Map<string, Promise<number[]>>
  /** max.message.bytes per topic (topic-limit.ts). */
  readonly limits: Map<string, CachedLimit>
  readonly batcher: Batcher
}

export function createProduceState (deps: ProduceServiceDeps): ProduceState {
  const { config } = deps
  const log = deps.logger.child({ component: 'produce' })
  const observers = new Set<ProduceObserver>(deps.observer !== undefined ? [deps.observer] : [])
  return {
    kafka: deps.kafka,
    topics: deps.topics,
    arrival: deps.arrival,
    idempotency: deps.idempotency,
    config,
    log,
    observers,
    partitioner: Partitioners.DefaultPartitioner(),
    metadataOf: new WeakMap(),
    creating: new Map(),
    limits: new Map(),
    batcher: createBatcher({
      getProducer: (acks) => deps.kafka.connectedProducer(acks),
      lingerMs: config.lingerMs,
      maxBatchRecords: config.maxBatchRecords,
      maxBatchBytes: config.maxBatchBytes,
      mapError: (err, t) => mapKafkaError(err, { topics: t }),
      observer: event => { emit(observers, log, event) },
      onResend: (records, attempt) => { log.warn({ records, attempt }, 'Kafka answered a batch without some partitions (leader moved); sending their records again') }
    })
  }
}

/** An observer that throws is logged; it never fails a produce. */
export function emit (observers: Set<ProduceObserver>, log: Logger, event: ProduceEvent): void {
  for (const o of observers) {
    try { o(event) } catch (err) { log.warn({ err }, 'produce observer threw') }
  }
}
