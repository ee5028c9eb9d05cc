/** TypeBox schemas of the pull-consumer routes (native and Confluent v2 field names side by side). */
import { Type } from 'typebox'
import { ConsumerTuningSchema, GROUP_ID_PATTERN } from '../consumers/definition-schema.js'
import { confluentErrorResponses, errorResponses } from '../http/schemas.js'

/** Every instance route is served under both prefixes: the gateway's and Confluent REST Proxy v2's. */
export const INSTANCE_PREFIXES = ['/consumer-groups/:groupId/instances/:instanceId', '/consumers/:groupId/instances/:instanceId'] as const

export const INSTANCE_ID_PATTERN = '^[A-Za-z0-9._-]{1,128}$'

export const GroupParams = Type.Object({
  groupId: Type.String({ pattern: GROUP_ID_PATTERN, description: 'Kafka consumer group id' })
})

export const InstanceParams = Type.Object({
  groupId: Type.String({ pattern: GROUP_ID_PATTERN, description: 'Kafka consumer group id' }),
  instanceId: Type.String({ pattern: INSTANCE_ID_PATTERN, description: 'Consumer instance id (the `instance_id` of the create answer)' })
})

const TopicName = Type.String({ minLength: 1, maxLength: 249, description: 'Topic' })
const Partition = Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'Partition' })
const Offset = Type.Union([Type.String({ pattern: '^[0-9]{1,19}$' }), Type.Integer({ minimum: 0 })], { description: 'Offset: a decimal string, or a JSON integer (Confluent clients send numbers)' })

export const CreateBodySchema = Type.Object({
  name: Type.Optional(Type.String({ pattern: INSTANCE_ID_PATTERN, description: 'Instance id (default: a random one); a name the group already uses → 409' })),
  id: Type.Optional(Type.String({ pattern: INSTANCE_ID_PATTERN, description: 'Confluent v1\'s name for `name` (the kafka-rest node client sends it)' })),
  autoOffsetReset: Type.Optional(Type.Union([Type.Literal('earliest'), Type.Literal('latest')], { description: 'Where a partition without a committed offset starts (default `latest`)' })),
  'auto.offset.reset': Type.Optional(Type.Union([Type.Literal('earliest'), Type.Literal('latest')], { description: 'Confluent\'s name for autoOffsetReset' })),
  'auto.commit.enable': Type.Optional(Type.Union([Type.String(), Type.Boolean()], { description: 'Confluent\'s auto-commit: only `false` is accepted (commit with POST …/offsets)' })),
  format: Type.Optional(Type.Union([Type.Literal('envelope'), Type.Literal('json'), Type.Literal('binary')], { description: 'Records\' shape when the Accept header does not choose: `envelope` (default, the webhook envelope), Confluent\'s `json` or `binary` (base64)' })),
  maxPollRecords: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'Most records one poll answers (default 500)' })),
  maxPollBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024, description: 'A poll stops adding records past this many bytes of keys and values (default 8 MiB; at least one record)' })),
  instanceTimeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 86_400_000, description: 'Closed everywhere and removed after this long without a request (default 300000)' })),
  'consumer.instance.timeout.ms': Type.Optional(Type.Integer({ minimum: 1000, maximum: 86_400_000, description: 'Confluent\'s name for instanceTimeoutMs' })),
  'consumer.request.timeout.ms': Type.Optional(Type.Integer({ minimum: 0, maximum: 30_000, description: 'How long a poll without `timeoutMs` waits for a first record (default 1000)' })),
  consumer: Type.Optional(ConsumerTuningSchema)
}, { additionalProperties: false, description: 'A pull consumer instance (Confluent v2 keys accepted)' })

export const CreatedSchema = Type.Object({
  instance_id: Type.String({ description: 'The instance id' }),
  base_uri: Type.String({ description: 'The instance\'s URL, on the host the request was sent to (any gateway instance serves it)' })
}, { additionalProperties: false })

export const SubscriptionSchema = Type.Object({
  topics: Type.Array(TopicName, { minItems: 1, maxItems: 100, uniqueItems: true, description: 'Topics to subscribe to (group-managed: the group spreads their partitions over its instances)' })
}, { additionalProperties: false })

const PartitionRef = Type.Object({ topic: TopicName, partition: Partition }, { additionalProperties: false })

export const AssignmentsSchema = Type.Object({
  partitions: Type.Array(PartitionRef, { minItems: 1, maxItems: 1000, description: 'Exactly these partitions (joins the group with the `custom-assigner` protocol)' })
}, { additionalProperties: false })

export const SourceViewSchema = Type.Object({
  topics: Type.Array(Type.String(), { description: 'Subscribed topics (empty when none, or assigned)' }),
  partitions: Type.Array(PartitionRef, { description: 'Explicitly assigned partitions (empty when subscribed)' }),
  assigned: Type.Array(PartitionRef, { description: 'The partitions this instance holds right now' })
}, { additionalProperties: false })

export const OffsetsBodySchema = Type.Object({
  offsets: Type.Optional(Type.Array(Type.Object({ topic: TopicName, partition: Partition, offset: Offset, metadata: Type.Optional(Type.String({ description: 'Ignored' })) }, { additionalProperties: false }), {
    maxItems: 10_000, description: 'Offsets to commit, each the next offset to read; absent or empty: the offset after every record polled so far'
  }))
}, { additionalProperties: false })

export const OffsetListSchema = Type.Object({
  offsets: Type.Array(Type.Object({
    topic: Type.String({ description: 'Topic' }),
    partition: Type.Integer({ description: 'Partition' }),
    offset: Type.String({ description: 'Offset (the next to read; `-1`: none committed)' })
  }, { additionalProperties: false }), { description: 'Offsets by topic and partition' })
}, { additionalProperties: false })

export const SeekBodySchema = Type.Object({
  offsets: Type.Array(Type.Object({
    topic: TopicName,
    partition: Partition,
    offset: Type.Optional(Offset),
    timestamp: Type.Optional(Type.Integer({ minimum: 0, description: 'Milliseconds since the epoch: seek to the first record at or after it' }))
  }, { additionalProperties: false }), { minItems: 1, maxItems: 1000, description: 'Where each partition reads next: an `offset` or a `timestamp` (exactly one)' })
}, { additionalProperties: false })

export const EdgeBodySchema = Type.Object({
  partitions: Type.Optional(Type.Array(PartitionRef, { maxItems: 1000, description: 'Partitions to move (absent: every partition the instance holds)' }))
}, { additionalProperties: false })

export const RecordsQuerySchema = Type.Object({
  timeoutMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 30_000, description: 'Longest wait for a first record (default: the instance\'s consumer.request.timeout.ms, 1000)' })),
  timeout: Type.Optional(Type.Integer({ minimum: 0, maximum: 30_000, description: 'Confluent\'s name for timeoutMs' })),
  maxRecords: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'Most records (default and upper bound: the instance\'s maxPollRecords)' })),
  maxBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 * 1024 * 1024, description: 'Bytes of keys and values after which the answer stops (at least one record; bounded by maxPollBytes)' })),
  max_bytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 * 1024 * 1024, description: 'Confluent\'s name for maxBytes' }))
}, { additionalProperties: false })

/** A Confluent REST Proxy path (its meanings for commits, its error shape), not one of the gateway's own. */
export const isConfluentPath = (path: string): boolean => path.startsWith('/consumers/')

/** A pull route's error answers: the gateway's shape natively, Confluent's under /consumers/… (pull.ts sends them). */
export const pullErrors = (path: string, ...codes: number[]): ReturnType<typeof errorResponses> | ReturnType<typeof confluentErrorResponses> =>
  isConfluentPath(path) ? confluentErrorResponses(...codes) : errorResponses(...codes)
