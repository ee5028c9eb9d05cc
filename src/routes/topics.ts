import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errorResponses } from '../http/schemas.js'
import type { TopicService } from '../topics/service.js'

const topicName = (description: string): ReturnType<typeof Type.String> => Type.String({
  description: `${description} (Kafka's rules: 1-249 characters of \`[A-Za-z0-9._-]\`, not \`.\` or \`..\`; others → 400 naming the rule)`,
  examples: ['orders']
})

export const TopicParams = Type.Object({ topic: topicName('Topic name') })

const summaryFields = {
  name: Type.String({ description: 'Topic name' }),
  partitions: Type.Integer({ description: 'Number of partitions' }),
  replicationFactor: Type.Integer({ description: 'Replicas per partition (of partition 0)' }),
  internal: Type.Boolean({ description: 'An internal topic: Kafka\'s own (`__consumer_offsets`, `__transaction_state`) or any name starting with `__`' })
}

const ConfigsSchema = Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]), {
  description: 'Configs set on the topic itself (defaults and broker-wide values left out): name → value, `null` for a sensitive value',
  examples: [{ 'retention.ms': '3600000', 'cleanup.policy': 'compact' }]
})

const TopicListSchema = Type.Object({
  topics: Type.Array(Type.Object(summaryFields, { additionalProperties: false }), { description: 'Every topic, by name' })
}, {
  additionalProperties: false,
  examples: [{ topics: [{ name: 'orders', partitions: 3, replicationFactor: 1, internal: false }, { name: 'orders-to-billing.dlq', partitions: 1, replicationFactor: 1, internal: false }] }]
})

const PartitionSchema = Type.Object({
  partition: Type.Integer({ description: 'Partition id' }),
  leader: Type.Integer({ description: 'Broker id of the leader (-1: none)' }),
  replicas: Type.Array(Type.Integer(), { description: 'Broker ids holding a replica' }),
  isr: Type.Array(Type.Integer(), { description: 'In-sync replicas (broker ids)' }),
  offlineReplicas: Type.Array(Type.Integer(), { description: 'Replicas on brokers that are offline' }),
  earliest: Type.String({ description: 'Offset of the oldest record kept (the low watermark), a decimal string' }),
  latest: Type.String({ description: 'Offset the next record will get (the high watermark), a decimal string' })
}, { additionalProperties: false })

const TopicViewSchema = Type.Object({
  name: summaryFields.name,
  replicationFactor: summaryFields.replicationFactor,
  internal: summaryFields.internal,
  partitions: Type.Array(PartitionSchema, { description: 'Every partition, by id' }),
  configs: ConfigsSchema
}, {
  additionalProperties: false,
  examples: [{
    name: 'orders', replicationFactor: 1, internal: false,
    partitions: [{ partition: 0, leader: 1, replicas: [1], isr: [1], offlineReplicas: [], earliest: '0', latest: '118' }],
    configs: { 'retention.ms': '3600000' }
  }]
})

const CreateBody = Type.Object({
  name: topicName('The new topic\'s name'),
  partitions: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'Number of partitions; default: the broker\'s num.partitions' })),
  replicationFactor: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 32_767,
    description: 'Replicas per partition; default: the broker\'s default.replication.factor. More than there are brokers → 400 saying how many there are'
  })),
  configs: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9._-]{1,255}$' }), Type.String({ maxLength: 32_768 }), {
    maxProperties: 100,
    description: 'Topic configs, name → value as a string (e.g. `retention.ms`, `cleanup.policy`, `max.message.bytes`). A name or value the broker refuses → 400 naming `body/configs/<name>` with Kafka\'s error'
  }))
}, {
  additionalProperties: false,
  'x-examples': {
    defaults: { summary: 'Broker defaults for partitions and replication', value: { name: 'orders' } },
    full: { summary: 'Three partitions, one replica, a one-hour retention', value: { name: 'orders', partitions: 3, replicationFactor: 1, configs: { 'retention.ms': '3600000' } } },
    compacted: { summary: 'A compacted topic', value: { name: 'user-profiles', partitions: 6, configs: { 'cleanup.policy': 'compact' } } }
  }
})

const CreatedSchema = Type.Object({ ...summaryFields, configs: ConfigsSchema }, {
  additionalProperties: false,
  description: 'The topic as created',
  examples: [{ name: 'orders', partitions: 3, replicationFactor: 1, internal: false, configs: { 'retention.ms': '3600000' } }]
})

export interface TopicRoutesOptions { topics: TopicService }

/** GET/POST /topics, GET/DELETE /topics/{topic}: thin over the topic service (src/topics/service.ts). */
const topicRoutes: FastifyPluginAsyncTypebox<TopicRoutesOptions> = async (app, { topics }) => {
  app.get('/topics', {
    schema: {
      tags: ['topics'],
      summary: 'List topics with their partition counts',
      description: 'Internal topics (`__consumer_offsets`, any name starting with `__`) are left out unless `internal=true`.',
      querystring: Type.Object({
        internal: Type.Optional(Type.Boolean({ description: 'Also list internal topics', default: false }))
      }, { additionalProperties: false }),
      response: { 200: TopicListSchema, ...errorResponses(400, 503, 504) }
    }
  }, async (request) => ({ topics: await topics.list({ internal: request.query.internal === true }) }))

  app.post('/topics', {
    schema: {
      tags: ['topics'],
      summary: 'Create a topic',
      description: 'Answers 201 once the topic\'s partitions have leaders. Errors: 400 invalid name (Kafka\'s rule named), replication factor above ' +
        'the broker count (the count named), a config the broker refuses (`body/configs/<name>`); 409 the topic exists; 503 Kafka unreachable.',
      body: CreateBody,
      response: { 201: CreatedSchema, ...errorResponses(400, 409, 502, 503, 504) }
    }
  }, async (request, reply) => {
    const created = await topics.create(request.body)
    return reply.code(201).header('location', `/topics/${encodeURIComponent(created.name)}`).send(created)
  })

  app.get('/topics/:topic', {
    schema: {
      tags: ['topics'],
      summary: 'One topic: partitions (leader, replicas, ISR, earliest and latest offsets) and the configs set on it',
      params: TopicParams,
      response: { 200: TopicViewSchema, ...errorResponses(400, 404, 503, 504) }
    }
  }, async (request) => await topics.describe(request.params.topic))

  app.delete('/topics/:topic', {
    schema: {
      tags: ['topics'],
      summary: 'Delete a topic and every record in it',
      description: 'Consumer groups defined on the topic keep their definitions (delete them with DELETE /consumers). Internal topics ' +
        '(names starting with `__`) are refused with 400. Unknown topic → 404 GW_TOPIC_NOT_FOUND.',
      params: TopicParams,
      response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(400, 404, 502, 503, 504) }
    }
  }, async (request, reply) => {
    await topics.remove(request.params.topic)
    return reply.code(204).send(null)
  })
}

export default topicRoutes
