/**
 * The request schema of a consumer-group definition (seed 000, "Create Consumer", with a webhook added),
 * and the defaults normalisation applies.
 */
import { Type, type Static } from 'typebox'

export const GROUP_ID_PATTERN = '^[A-Za-z0-9._-]{1,249}$'
export const CLIENT_ID_PATTERN = '^[A-Za-z0-9._:-]{1,255}$'

export const DEFAULT_CONCURRENCY = 6
export const CONSUMER_DEFAULTS = Object.freeze({
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3000,
  rebalanceTimeoutMs: 60_000,
  maxWaitTimeMs: 500
})

const TopicSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 249, description: 'Topic to consume; it must exist' }),
  partitions: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 2147483647 }), {
    minItems: 1,
    maxItems: 10000,
    description: 'Partitions this group consumes on the topic: required when `isPartitionAssign` is true (each must exist), not allowed otherwise'
  }))
}, { additionalProperties: false, description: 'One topic of the group' })

const WebhookSchema = Type.Object({
  url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL every record is POSTed to (host subject to WEBHOOK_ALLOWED_HOSTS; never an address in WEBHOOK_BLOCKED_ADDRESSES, cloud metadata and link-local by default)' }),
  headers: Type.Optional(Type.Record(Type.String(), Type.String(), {
    description: 'Extra request headers, e.g. Authorization. Values are secret: responses list the names only'
  })),
  secrets: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), {
    minItems: 1,
    maxItems: 5,
    description: 'Standard Webhooks signing secrets (`whsec_<base64>`); several sign at once, for rotation. Never returned: responses give their count'
  })),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 300_000, description: 'Per-attempt timeout in ms (default WEBHOOK_TIMEOUT_MS)' })),
  maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Attempts per record before it is dead-lettered (default 10)' })),
  maxRetryDurationMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 86_400_000, description: 'Retry budget per record in ms before it is dead-lettered (default 1 h)' })),
  nonRetryableStatuses: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), {
    maxItems: 100,
    description: 'Statuses dead-lettered at once (default 400, 401, 403, 404, 410, 422)'
  })),
  deadLetterTopic: Type.Optional(Type.Union([
    Type.String({ minLength: 1, maxLength: 249 }),
    Type.Literal(false)
  ], { description: 'Dead-letter topic (default `<groupId>.dlq`); `false` turns dead-lettering off, so a failing record blocks its partition' })),
  batchSize: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 1000,
    description: 'Records per request (default 1: the envelope is the body). Above 1 the body is `{ "records": [envelope, ...] }`: up to this many consecutive records of one partition, from what was already fetched (no waiting). Retries, dead-lettering (of every record in it) and the commit apply to the whole request'
  })),
  maxBatchWaitMs: Type.Optional(Type.Integer({
    minimum: 0,
    maximum: 5000,
    description: 'With batchSize above 1: how long, in ms, a batch that is not full (fewer than batchSize records of its partition at hand) may wait for more records before it is sent (default 0: sent at once with what was fetched). A partial batch is never held longer, so small traffic is delivered within this bound'
  }))
}, { additionalProperties: false, description: 'Where and how records are delivered' })

export const ConsumerTuningSchema = Type.Object({
  sessionTimeoutMs: Type.Optional(Type.Integer({ minimum: 6000, maximum: 1_800_000, description: 'Kafka session timeout in ms (default 30000; the broker allows 6000-1800000 by default): how soon a dead member loses its partitions' })),
  heartbeatIntervalMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000, description: 'Kafka heartbeat interval in ms (default 3000); must be below the session timeout' })),
  rebalanceTimeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 1_800_000, description: 'How long the group waits for members to rejoin during a rebalance, in ms (default 60000)' })),
  maxWaitTimeMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 30_000, description: 'Longest a fetch waits for new records, in ms (default 500)' }))
}, { additionalProperties: false, description: 'Kafka consumer tuning (optional)' })

export const GroupDefinitionSchema = Type.Object({
  isPartitionAssign: Type.Boolean({ description: '`false`: a round-robin group (partitions spread across the instances running it). `true`: every instance consumes exactly the partitions declared in `topics[].partitions` (protocol `custom-assigner`)' }),
  fromBeginning: Type.Optional(Type.Boolean({ description: 'Start from the earliest offset when the group has no committed offset (default false: only new records)' })),
  topics: Type.Array(TopicSchema, { minItems: 1, maxItems: 100, description: 'Topics the group consumes' }),
  webhook: WebhookSchema,
  clientIds: Type.Optional(Type.Array(Type.String({ pattern: CLIENT_ID_PATTERN }), {
    minItems: 1,
    maxItems: 1000,
    description: 'Gateway instances (KAFKA_CLIENT_ID) that run this group; absent: every instance sharing the registry. A partition-assigned group may be declared several times for disjoint sets of instances, each with its own partitions'
  })),
  concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 256, description: `Partitions delivered in parallel per instance; records of one partition are always delivered in order (default ${DEFAULT_CONCURRENCY})` })),
  consumer: Type.Optional(ConsumerTuningSchema)
}, { additionalProperties: false, description: 'One consumer group: seed 000\'s definition plus a webhook' })

export const DefinitionsBodySchema = Type.Record(Type.String(), GroupDefinitionSchema, {
  minProperties: 1,
  maxProperties: 100,
  propertyNames: { pattern: GROUP_ID_PATTERN },
  description: 'Consumer groups keyed by group id (1-249 characters of A-Z a-z 0-9 . _ -)'
})

export type GroupDefinitionInput = Static<typeof GroupDefinitionSchema>
