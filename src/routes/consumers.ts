import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errorResponses } from '../http/schemas.js'
import { CLIENT_ID_PATTERN, GROUP_ID_PATTERN } from '../consumers/definition.js'
import type { ConsumerService } from '../consumers/service.js'

const groupFields = {
  groupId: Type.Optional(Type.String({ description: 'Consumer group id' })),
  memberId: Type.Optional(Type.String({ description: 'This client\'s member id in the group' })),
  leaderId: Type.Optional(Type.String({ description: 'The group leader\'s member id' })),
  isLeader: Type.Optional(Type.Boolean({ description: 'Whether this member leads the group' })),
  groupProtocol: Type.Optional(Type.String({ description: '`custom-assigner` (partition-assigned) or `RoundRobinAssigner`' })),
  partitions: Type.Optional(Type.Array(Type.Integer(), { description: 'Partitions assigned to this member on the topic' }))
}

const GroupEntrySchema = Type.Object(groupFields, { additionalProperties: true, description: 'One group\'s consumer on the topic' })

const TopicEntrySchema = Type.Object({
  ...groupFields,
  unreadable: Type.Optional(Type.String({ description: 'Set when this value (or, under the key `(unreadable)`, the whole field) is not in the registry format: the rule it breaks. Written by another process; the gateway shows it and never routes to it' })),
  raw: Type.Optional(Type.Unknown({ description: 'With `unreadable`: the stored value as found (a string preview when it is not JSON or larger than 4 KiB)' })),
  groups: Type.Optional(Type.Array(GroupEntrySchema, { description: 'Gateway entries: every group of this client on the topic (the top-level fields copy one of them, a custom-assigner one first)' }))
}, { additionalProperties: true, description: 'syrup-kafka\'s per-topic fields, plus `groups` on gateway entries' })

const RegistrySchema = Type.Record(Type.String(), Type.Record(Type.String(), TopicEntrySchema), {
  description: 'clientId → { topic → consumer }: live gateway instances (heartbeat present) and syrup-kafka processes (they write no heartbeat and are always listed)'
})

const DeleteResponseSchema = Type.Object({
  definitionsDeleted: Type.Array(Type.String(), { description: 'Group ids whose definitions were deleted (every instance stops them)' }),
  stopped: Type.Array(Type.Object({
    clientId: Type.String({ description: 'Gateway instance' }),
    groupId: Type.String({ description: 'Consumer group' }),
    state: Type.Union([Type.Literal('stopped'), Type.Literal('stopping')], { description: '`stopped` by this instance before answering, or `stopping` within one heartbeat on another instance' })
  }, { additionalProperties: false }), { description: 'The consumers stopped' })
}, { additionalProperties: false })

export interface ConsumerRoutesOptions { consumers: Pick<ConsumerService, 'consumers' | 'stop'> }

const consumerRoutes: FastifyPluginAsyncTypebox<ConsumerRoutesOptions> = async (app, { consumers }) => {
  app.get('/consumers', {
    schema: {
      tags: ['consumers'],
      summary: 'The consumer registry (seed "Redis Config"): every live client\'s consumers by topic',
      description: 'The Redis hash REGISTRY_KEY as JSON, live clients only: gateway instances whose heartbeat is present, and syrup-kafka ' +
        'processes (which write no heartbeat, so they are always listed). With `groupId`, each topic shows that group only.',
      querystring: Type.Object({
        clientId: Type.Optional(Type.String({ pattern: CLIENT_ID_PATTERN, description: 'Only this client' })),
        groupId: Type.Optional(Type.String({ pattern: GROUP_ID_PATTERN, description: 'Only this consumer group' })),
        topic: Type.Optional(Type.String({ minLength: 1, maxLength: 249, description: 'Only this topic' }))
      }, { additionalProperties: false }),
      response: { 200: RegistrySchema, ...errorResponses(400, 503) }
    }
  }, async (request) => await consumers.consumers(request.query))

  app.delete('/consumers', {
    schema: {
      tags: ['consumers'],
      summary: 'Stop consumers (seed `exit`) and remove their registry entries',
      description: '`groupId`: deletes the group\'s definition; every instance stops it (this one before answering, the others within a heartbeat). ' +
        '`clientId`: that gateway instance stops all its consumers (or only `groupId` when both are given; the definition stays) until it ' +
        'restarts or the group is POSTed again. `all=true` without filters deletes every definition. No filter → 400.',
      querystring: Type.Object({
        clientId: Type.Optional(Type.String({ pattern: CLIENT_ID_PATTERN, description: 'Gateway instance to stop consumers on' })),
        groupId: Type.Optional(Type.String({ pattern: GROUP_ID_PATTERN, description: 'Consumer group to stop (and, without clientId, delete)' })),
        all: Type.Optional(Type.Boolean({ description: 'Required to delete every definition when no filter is given' }))
      }, { additionalProperties: false }),
      response: { 200: DeleteResponseSchema, ...errorResponses(400, 404, 409, 503) }
    }
  }, async (request) => await consumers.stop(request.query))
}

export default consumerRoutes
