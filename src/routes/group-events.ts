import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { GROUP_ID_PATTERN } from '../consumers/definition.js'
import { errorResponses } from '../http/schemas.js'
import { parseNameList } from '../sse/cursor.js'
import type { SseService } from '../sse/service.js'
import { eventStreamResponse, FromSchema } from './events-schemas.js'

export interface GroupEventRoutesOptions { sse: Pick<SseService, 'groupStream'> }

/** GET /consumer-groups/{groupId}/events: a committed group as server-sent events (src/sse/group-stream.ts). */
const groupEventRoutes: FastifyPluginAsyncTypebox<GroupEventRoutesOptions> = async (app, { sse }) => {
  app.get('/consumer-groups/:groupId/events', {
    schema: {
      tags: ['consumer-groups'],
      summary: 'Stream a committed consumer group\'s records as server-sent events',
      description: 'The stream is a member of the Kafka consumer group `groupId` on `topics`: streams of one group (on any instance) share its ' +
        'partitions. Events as GET /topics/{topic}/events writes them (`event: record`, data the webhook envelope, `: ping` heartbeats), each ' +
        'with `id: <topic>/<partition>/<next offset>`. After each batch the offsets of what was written to the socket are committed, so the ' +
        'group\'s next stream goes on from there; `from` applies only while the group has no committed offset. A record written but lost with ' +
        'the connection is not sent again (at most once past the socket). Closing the stream leaves the group (its commits stay). Groups defined ' +
        'as webhook consumers (POST /consumer-groups) → 409; ids starting with `kafka-http-gateway.` → 400. Beyond SSE_MAX_STREAMS → 503.',
      params: Type.Object({ groupId: Type.String({ pattern: GROUP_ID_PATTERN, description: 'Kafka consumer group id' }) }),
      querystring: Type.Object({
        topics: Type.String({ minLength: 1, maxLength: 65_536, description: 'Topics to read, comma-separated', examples: ['orders,payments'] }),
        from: FromSchema
      }, { additionalProperties: false }),
      response: { 200: eventStreamResponse('The event stream'), ...errorResponses(400, 404, 409, 503, 504) }
    }
  }, async (request, reply) => {
    const { groupId } = request.params
    const { topics, from } = request.query
    await sse.groupStream(request, reply, groupId, parseNameList('querystring/topics', topics), from ?? 'latest')
  })
}

export default groupEventRoutes
