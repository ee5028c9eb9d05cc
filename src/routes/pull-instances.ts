/** Pull instances: create, delete, and what they read (subscription or explicit assignment). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { PullService } from '../pull/service.js'
import type { PullSource } from '../pull/types.js'
import { AssignmentsSchema, CreateBodySchema, CreatedSchema, GroupParams, INSTANCE_PREFIXES, InstanceParams, pullErrors, SourceViewSchema, SubscriptionSchema } from './pull-schemas.js'

const tags = ['pull-consumers']
const NoContent = Type.Null({ description: 'No content' })

function sourceView (source: PullSource, assigned: Array<{ topic: string, partition: number }>): { topics: string[], partitions: Array<{ topic: string, partition: number }>, assigned: Array<{ topic: string, partition: number }> } {
  return {
    topics: source.kind === 'subscription' ? source.topics : [],
    partitions: source.kind === 'assignment' ? source.partitions : [],
    assigned
  }
}

const pullInstanceRoutes: FastifyPluginAsyncTypebox<{ pull: PullService }> = async (app, { pull }) => {
  for (const [url, native] of [['/consumer-groups/:groupId/instances', true], ['/consumers/:groupId', false]] as const) {
    app.post(url, {
      schema: {
        tags,
        summary: native ? 'Create a pull consumer instance in a consumer group' : 'Create a pull consumer instance (Confluent REST Proxy v2 path)',
        description: 'The instance is stored in Redis: any gateway instance serves its requests (the one holding its Kafka consumer directly, ' +
          'the others by forwarding, or by taking it over when that one is gone, resuming from the committed offsets). ' +
          `${native ? '201' : '200 (as Confluent answers)'} with \`instance_id\` and \`base_uri\`. A group defined for webhooks (POST /consumer-groups) → 409.`,
        params: GroupParams,
        body: CreateBodySchema,
        response: { [native ? 201 : 200]: CreatedSchema, ...pullErrors(url, 400, 409, 503) }
      }
    }, async (request, reply) => {
      const { groupId } = request.params
      const record = await pull.create(groupId, request.body)
      const prefix = native ? `/consumer-groups/${groupId}/instances` : `/consumers/${groupId}/instances`
      return await reply.code(native ? 201 : 200).send({ instance_id: record.instanceId, base_uri: `${request.protocol}://${request.host}${prefix}/${record.instanceId}` })
    })
  }

  for (const prefix of INSTANCE_PREFIXES) {
    app.delete(prefix, {
      schema: { tags, summary: 'Delete a pull consumer instance (leaves its group; uncommitted polls are not committed)', params: InstanceParams, response: { 204: NoContent, ...pullErrors(prefix, 400, 404, 503) } }
    }, async (request, reply) => {
      await pull.remove(request.params.groupId, request.params.instanceId)
      return await reply.code(204).send(null)
    })

    app.post(`${prefix}/subscription`, {
      schema: {
        tags,
        summary: 'Subscribe to topics (replaces any subscription or assignment)',
        description: 'A new subscription starts a new Kafka consumer: it reads from the group\'s committed offsets (records polled but not committed come again). Unknown topic → 404 naming it.',
        params: InstanceParams,
        body: SubscriptionSchema,
        response: { 204: NoContent, ...pullErrors(prefix, 400, 404, 503) }
      }
    }, async (request, reply) => {
      await pull.setSource(request.params.groupId, request.params.instanceId, { kind: 'subscription', topics: request.body.topics })
      return await reply.code(204).send(null)
    })

    app.delete(`${prefix}/subscription`, {
      schema: { tags, summary: 'Unsubscribe (stops the instance\'s Kafka consumer; the instance stays)', params: InstanceParams, response: { 204: NoContent, ...pullErrors(prefix, 400, 404, 503) } }
    }, async (request, reply) => {
      await pull.setSource(request.params.groupId, request.params.instanceId, { kind: 'none' })
      return await reply.code(204).send(null)
    })

    app.post(`${prefix}/assignments`, {
      schema: {
        tags,
        summary: 'Read exactly these partitions (replaces any subscription or assignment)',
        description: 'kafkajs has no manual assign(): the instance joins its group with the `custom-assigner` protocol declaring these partitions, so every member of the group must be assigned (not subscribed). A partition the topic lacks → 400 GW_PARTITION_OUT_OF_RANGE.',
        params: InstanceParams,
        body: AssignmentsSchema,
        response: { 204: NoContent, ...pullErrors(prefix, 400, 404, 503) }
      }
    }, async (request, reply) => {
      await pull.setSource(request.params.groupId, request.params.instanceId, { kind: 'assignment', partitions: request.body.partitions })
      return await reply.code(204).send(null)
    })

    for (const what of ['subscription', 'assignments'] as const) {
      app.get(`${prefix}/${what}`, {
        schema: { tags, summary: `The instance's ${what === 'subscription' ? 'subscribed topics' : 'assigned partitions'} and the partitions it holds now`, params: InstanceParams, response: { 200: SourceViewSchema, ...pullErrors(prefix, 400, 404, 503) } }
      }, async (request) => {
        const { source, assigned } = await pull.source(request.params.groupId, request.params.instanceId)
        return sourceView(source, assigned)
      })
    }
  }
}

export default pullInstanceRoutes
