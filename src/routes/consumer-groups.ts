import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import { AppError } from '../errors.js'
import { viaRedis } from '../consumers/service-context.js'
import type { PullService } from '../pull/service.js'
import type { PullInstanceRecord } from '../pull/types.js'
import { errorResponses } from '../http/schemas.js'
import { DefinitionsBodySchema, DefinitionViewSchema, GROUP_ID_PATTERN, preValidationError, type GroupDefinitionInput } from '../consumers/definition.js'
import type { ConsumerService } from '../consumers/service.js'

export const PartitionStatusSchema = Type.Object({
  topic: Type.String({ description: 'Topic' }),
  partition: Type.Integer({ description: 'Partition' }),
  assigned: Type.Boolean({ description: 'Held by this instance right now; counters of a partition it held earlier (before a rebalance) are kept' }),
  delivered: Type.Integer({ description: 'Records of this partition delivered (2xx) by this instance since the consumer started' }),
  retried: Type.Integer({ description: 'Retries scheduled on this partition (each failed attempt that is tried again counts once)' }),
  deadLettered: Type.Integer({ description: 'Records of this partition written to the dead-letter topic by this instance' }),
  inFlight: Type.Integer({ description: 'Records of this partition being delivered right now (one request at a time, in order: 0, or up to the webhook batchSize)' }),
  lastStatus: Type.Union([Type.Integer(), Type.Null()], { description: 'HTTP status of the last attempt on this partition; null when it got no response (network error, timeout) or none was made' }),
  lastError: Type.Union([Type.String(), Type.Null()], { description: 'The last failed attempt or dead letter on this partition (status and the start of the response body, or the network error), or null' }),
  lag: Type.Union([Type.Integer(), Type.Null()], { description: 'Records behind: the high watermark minus the group\'s position (its committed offset, or the next record this instance delivers when further). Measured every registry heartbeat; null until measured or when not held here' }),
  committedOffset: Type.Union([Type.String(), Type.Null()], { description: 'The group\'s committed offset at the last measurement (the next record to consume), or null when none' }),
  highWatermark: Type.Union([Type.String(), Type.Null()], { description: 'The partition\'s high watermark (offset of the next record written) at the last measurement, or null' })
}, { additionalProperties: false, description: 'One partition of the group on one instance' })

export const GroupStatusSchema = Type.Object({
  state: Type.Union([Type.Literal('starting'), Type.Literal('running'), Type.Literal('stopping'), Type.Literal('stopped'), Type.Literal('failed')], {
    description: '`starting` (joining its group), `running`, `stopping`, `stopped` (by DELETE /consumers), `failed` (restarted on the next heartbeat)'
  }),
  running: Type.Boolean({ description: 'Joined and consuming right now' }),
  lastError: Type.Union([Type.String(), Type.Null()], { description: 'The last consumer or delivery error on this instance (a failed attempt, a dead letter, a consumer crash), or null' }),
  delivered: Type.Integer({ description: 'Records delivered (2xx) by this instance since the consumer started' }),
  retried: Type.Integer({ description: 'Retries scheduled by this instance since the consumer started, over every partition' }),
  deadLettered: Type.Integer({ description: 'Records dead-lettered by this instance since the consumer started' }),
  errors: Type.Integer({ description: 'Deliveries that failed unexpectedly (retried from the last committed offset)' }),
  inFlight: Type.Integer({ description: 'Records being delivered by this instance right now (at most one per partition)' }),
  lastStatus: Type.Union([Type.Integer(), Type.Null()], { description: 'HTTP status of the last attempt on any partition; null when it got no response or none was made' }),
  lag: Type.Union([Type.Integer(), Type.Null()], { description: 'Sum of the lag of the partitions this instance holds (see `byPartition`); null until measured' }),
  lagUpdatedAt: Type.Union([Type.String(), Type.Null()], { description: 'When the lag was last measured (ISO 8601), or null' }),
  partitions: Type.Record(Type.String(), Type.Array(Type.Integer()), { description: 'Partitions assigned to this instance, per topic' }),
  byPartition: Type.Array(PartitionStatusSchema, { description: 'Counters, last status and error, and lag per partition this instance holds or held, by topic and partition' }),
  updatedAt: Type.String({ description: 'When this status last changed (ISO 8601)' }),
  stoppedByRequest: Type.Optional(Type.Boolean({ description: 'Stopped by DELETE /consumers on this instance; resumes when the instance restarts or the group is POSTed again' }))
}, { additionalProperties: false, description: 'A group\'s live status on one gateway instance' })

const DeclarationViewSchema = Type.Intersect([
  DefinitionViewSchema,
  Type.Object({
    hash: Type.String({ description: 'Salted content hash of this declaration: changes whenever the declaration does, secrets included (the salt stays in Redis, so it reveals nothing about them)' }),
    version: Type.Integer({ description: 'Bumped each time the declaration for these instances is replaced' }),
    createdAt: Type.String({ description: 'When this declaration was stored (ISO 8601)' }),
    updatedAt: Type.String({ description: 'When this declaration last changed (ISO 8601)' })
  })
], { description: 'One declaration of the group (for every instance, or for those in clientIds)' })

const GroupViewSchema = Type.Object({
  groupId: Type.String({ description: 'Consumer group id' }),
  version: Type.Integer({ description: 'Bumped on every change of the group' }),
  updatedAt: Type.String({ description: 'When the group last changed (ISO 8601)' }),
  declarations: Type.Array(DeclarationViewSchema, { description: 'The group\'s declarations; several only for partition-assigned groups declared per instance' }),
  instances: Type.Record(Type.String(), GroupStatusSchema, { description: 'Live status per gateway instance (clientId) running the group' })
}, { additionalProperties: false, description: 'A consumer group: its definition (without secrets) and its live status per instance' })

const PullInstanceViewSchema = Type.Object({
  instanceId: Type.String({ description: 'Pull consumer instance id' }),
  owner: Type.String({ description: 'clientId of the gateway instance holding its Kafka consumer' }),
  topics: Type.Array(Type.String(), { description: 'Subscribed topics' }),
  partitions: Type.Array(Type.Object({ topic: Type.String(), partition: Type.Integer() }, { additionalProperties: false }), { description: 'Explicitly assigned partitions' }),
  createdAt: Type.String({ description: 'When it was created (ISO 8601)' })
}, { additionalProperties: false, description: 'A pull consumer instance of the group (POST /consumer-groups/{groupId}/instances)' })

const GroupWithPullSchema = Type.Object({
  ...GroupViewSchema.properties,
  pullInstances: Type.Array(PullInstanceViewSchema, { description: 'The group\'s pull consumer instances (a group of pull instances only has no declarations)' })
}, { additionalProperties: false, description: 'A consumer group: its definition (without secrets), its live status per instance and its pull consumer instances' })

function pullView (r: PullInstanceRecord): Static<typeof PullInstanceViewSchema> {
  return {
    instanceId: r.instanceId,
    owner: r.owner,
    topics: r.source.kind === 'subscription' ? r.source.topics : [],
    partitions: r.source.kind === 'assignment' ? r.source.partitions : [],
    createdAt: r.createdAt
  }
}

const WarningSchema = Type.Object({
  groupId: Type.String({ description: 'The group concerned' }),
  message: Type.String({ description: 'What overlaps, in words' }),
  topic: Type.Optional(Type.String({ description: 'Topic of the overlapping partitions' })),
  partitions: Type.Optional(Type.Array(Type.Integer(), { description: 'The overlapping partitions' })),
  clientIds: Type.Optional(Type.Array(Type.String(), { description: 'The other instances or clients involved' }))
}, { additionalProperties: false, description: 'A definition that was accepted but deserves attention (overlapping partition declarations)' })

const DefineResponseSchema = Type.Object({
  groups: Type.Array(Type.Object({
    groupId: Type.String({ description: 'Consumer group id' }),
    result: Type.Union([Type.Literal('created'), Type.Literal('replaced'), Type.Literal('unchanged')], {
      description: '`created`, `replaced` (with ?replace=true) or `unchanged` (an identical definition was already stored)'
    }),
    version: Type.Integer({ description: 'The group\'s version after this request' }),
    declaration: DeclarationViewSchema
  }, { additionalProperties: false }), { description: 'One result per group of the request' }),
  warnings: Type.Array(WarningSchema, { description: 'Overlapping partition declarations (accepted: each declaring instance consumes them)' })
}, { additionalProperties: false })

export interface ConsumerGroupRoutesOptions {
  consumers: Pick<ConsumerService, 'define' | 'list' | 'get'>
  pull: Pick<PullService, 'instances'>
}

const consumerGroupRoutes: FastifyPluginAsyncTypebox<ConsumerGroupRoutesOptions> = async (app, { consumers, pull }) => {
  app.post('/consumer-groups', {
    schema: {
      tags: ['consumer-groups'],
      summary: 'Define consumer groups that deliver every record to a webhook (seed `setConsumer`)',
      description: 'The body maps group ids to definitions. Definitions are stored in Redis: every gateway instance sharing the registry ' +
        'runs them (or only the instances in `clientIds`) within one heartbeat, and they resume after restarts. Re-posting an identical ' +
        'definition answers 200 (`unchanged`). A different definition for the same instances answers 409 GW_CONFLICT unless `?replace=true`. ' +
        'A partition-assigned group may be declared once per disjoint set of `clientIds`, each with its own partitions (like syrup-kafka ' +
        'processes that each call setConsumer); overlapping partitions are accepted and listed in `warnings`. The flag is `isPartitionAssign` ' +
        '(`isAssignPartition` is refused with a 400 saying so). Responses never contain webhook secrets or header values.',
      querystring: Type.Object({
        replace: Type.Optional(Type.Boolean({ description: 'Replace an existing, different definition of a group for the same instances instead of answering 409' }))
      }, { additionalProperties: false }),
      body: DefinitionsBodySchema,
      response: { 200: DefineResponseSchema, 201: DefineResponseSchema, ...errorResponses(400, 404, 409, 503) }
    },
    preValidation: async (request) => {
      const problem = preValidationError(request.body)
      if (problem !== undefined) throw problem
    }
  }, async (request, reply) => {
    const result = await consumers.define(request.body as Record<string, GroupDefinitionInput>, { replace: request.query.replace === true })
    return reply.code(result.created ? 201 : 200).send({ groups: result.groups, warnings: result.warnings })
  })

  app.get('/consumer-groups', {
    schema: {
      tags: ['consumer-groups'],
      summary: 'List consumer-group definitions with their live status per gateway instance',
      response: { 200: Type.Object({ groups: Type.Array(GroupViewSchema, { description: 'Every defined group, by group id' }) }, { additionalProperties: false }), ...errorResponses(503) }
    }
  }, async () => ({ groups: await consumers.list() }))

  app.get('/consumer-groups/:groupId', {
    schema: {
      tags: ['consumer-groups'],
      summary: 'One consumer-group definition with its live status per gateway instance',
      description: 'A group that has only pull consumer instances answers with no declarations and its `pullInstances`.',
      params: Type.Object({ groupId: Type.String({ pattern: GROUP_ID_PATTERN, description: 'Consumer group id' }) }),
      response: { 200: GroupWithPullSchema, ...errorResponses(400, 404, 503) }
    }
  }, async (request) => {
    const { groupId } = request.params
    const pulls = (await viaRedis('read the pull consumer instances', () => pull.instances(groupId))).map(pullView)
    try {
      return { ...await consumers.get(groupId), pullInstances: pulls }
    } catch (err) {
      if (!(err instanceof AppError) || err.statusCode !== 404 || pulls.length === 0) throw err
      return { groupId, version: 0, updatedAt: pulls[0]?.createdAt ?? '', declarations: [], instances: {}, pullInstances: pulls }
    }
  })
}

export default consumerGroupRoutes
