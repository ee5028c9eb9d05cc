import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errorResponses } from '../http/schemas.js'
import { parseCursor, parsePartitionList } from '../sse/cursor.js'
import type { SseService } from '../sse/service.js'
import { eventStreamResponse, FromSchema } from './events-schemas.js'
import { TopicParams } from './topics.js'

export interface TopicEventRoutesOptions { sse: Pick<SseService, 'topicStream'> }

const CURSOR_TEXT = 'A cursor as the stream\'s event ids carry it: `<partition>/<next offset>` entries joined by commas (`0/118,2/7`)'

/** GET /topics/{topic}/events: thin over the SSE service (src/sse/). */
const topicEventRoutes: FastifyPluginAsyncTypebox<TopicEventRoutesOptions> = async (app, { sse }) => {
  app.get('/topics/:topic/events', {
    schema: {
      tags: ['topics'],
      summary: 'Stream a topic\'s records as server-sent events',
      description: 'A `text/event-stream`: first `event: position` (data `{"topic","cursor"}`: where every partition starts), then one ' +
        '`event: record` per record, in offset order per partition, whose data is the webhook envelope (the body a webhook delivery carries). ' +
        'Each event\'s `id` is the cursor after it: `<partition>/<next offset>` for every partition the stream reads. Reconnecting with that id ' +
        '(`Last-Event-ID`, which EventSource sends by itself, or `lastEventId`) resumes every partition exactly there: nothing skipped, nothing ' +
        'repeated. A comment `: ping` is written every SSE_HEARTBEAT_MS. The stream reads through its own uncommitted consumer group ' +
        '(`kafka-http-gateway.events.<clientId>.<uuid>`), left and deleted when the stream closes (client gone, gateway shutdown). A slow client ' +
        'pauses the partitions it cannot take (backpressure). Beyond SSE_MAX_STREAMS open streams → 503 GW_OVERLOADED with Retry-After.',
      params: TopicParams,
      headers: Type.Object({
        'last-event-id': Type.Optional(Type.String({ maxLength: 65_536, description: `Resume point (EventSource sends the last event id on reconnect). ${CURSOR_TEXT}` }))
      }),
      querystring: Type.Object({
        from: FromSchema,
        partitions: Type.Optional(Type.String({ maxLength: 65_536, description: 'Only these partitions, comma-separated (`0,2`); default every partition', examples: ['0,2'] })),
        lastEventId: Type.Optional(Type.String({ maxLength: 65_536, description: `Resume point, for clients that cannot send headers; the header wins. ${CURSOR_TEXT}` }))
      }, { additionalProperties: false }),
      response: { 200: eventStreamResponse('The event stream'), ...errorResponses(400, 404, 503, 504) }
    }
  }, async (request, reply) => {
    const { topic } = request.params
    const { from, partitions, lastEventId } = request.query
    const header = request.headers['last-event-id']
    const cursor = header !== undefined && header !== ''
      ? { value: parseCursor('header/last-event-id', header), field: 'header/last-event-id' }
      : lastEventId !== undefined ? { value: parseCursor('querystring/lastEventId', lastEventId), field: 'querystring/lastEventId' } : undefined
    await sse.topicStream(request, reply, topic, {
      from: from ?? 'latest',
      ...(partitions !== undefined ? { partitions: parsePartitionList(partitions) } : {}),
      ...(cursor !== undefined ? { cursor } : {})
    })
  })
}

export default topicEventRoutes
