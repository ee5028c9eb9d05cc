import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errorResponses } from '../http/schemas.js'
import { MAX_READ_BYTES, MAX_READ_RECORDS, READ_TIMEOUT_MS } from '../topics/reader.js'
import type { TopicService } from '../topics/service.js'
import { batchBytes } from '../webhooks/envelope-bytes.js'
import { TopicParams } from './topics.js'

const DEFAULT_LIMIT = 100

const PartitionParams = Type.Object({
  ...TopicParams.properties,
  partition: Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'Partition id; one the topic lacks → 400 GW_PARTITION_OUT_OF_RANGE naming its partition count', examples: [0] })
})

const OffsetsSchema = Type.Object({
  topic: Type.String({ description: 'Topic' }),
  partition: Type.Integer({ description: 'Partition' }),
  earliest: Type.String({ description: 'Offset of the oldest record kept (the low watermark), a decimal string' }),
  latest: Type.String({ description: 'Offset the next record will get (the high watermark), a decimal string' })
}, { additionalProperties: false, examples: [{ topic: 'orders', partition: 0, earliest: '0', latest: '118' }] })

/** The webhook envelope (src/webhooks/envelope.ts), as documentation: the body is written by the same code. */
const EnvelopeSchema = Type.Object({
  topic: Type.String({ description: 'Topic' }),
  partition: Type.Integer({ description: 'Partition' }),
  offset: Type.String({ description: 'The record\'s offset, a decimal string' }),
  timestamp: Type.String({ description: 'Record timestamp, milliseconds since the epoch, a decimal string' }),
  key: Type.Union([Type.String(), Type.Null()], { description: 'The key: text, or base64 (see keyEncoding); null when none' }),
  keyEncoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64')], { description: 'Present when key is not null' })),
  value: Type.Unknown({ description: 'The value decoded by its content-type: JSON as JSON, text as a string, bytes as base64; null for a tombstone' }),
  valueEncoding: Type.Union([Type.Literal('json'), Type.Literal('utf8'), Type.Literal('base64'), Type.Null()], { description: 'How value is given; null for a tombstone' }),
  contentType: Type.Optional(Type.String({ description: 'The record\'s content-type header, when it has one' })),
  valueError: Type.Optional(Type.String({ description: 'Why a value declared as JSON is given as base64' })),
  headers: Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())]), { description: 'Record headers as UTF-8 strings (repeated headers as arrays)' }),
  headerEncodings: Type.Optional(Type.Record(Type.String(), Type.Literal('base64'), { description: 'Headers given as base64 because a value was not UTF-8' }))
}, { description: 'One record, exactly as a webhook receives it' })

const RecordsSchema = Type.Object({
  records: Type.Array(EnvelopeSchema, { description: 'Records in offset order (fewer than `limit` when the partition ends first)' }),
  nextOffset: Type.String({ description: 'The offset to ask for next: after the last record returned; the partition\'s latest offset when `offset` was past the end' })
}, {
  examples: [{
    records: [{ topic: 'orders', partition: 0, offset: '117', timestamp: '1763716800000', key: 'order-42', keyEncoding: 'utf8', value: { id: 42, total: 9.5 }, valueEncoding: 'json', contentType: 'application/json', headers: { departure: 'gw-1', 'x-request-id': 'req-1' } }],
    nextOffset: '118'
  }]
})

export interface TopicPartitionRoutesOptions { topics: Pick<TopicService, 'offsets' | 'records'> }

/** GET /topics/{topic}/partitions/{partition}/offsets and /records. */
const topicPartitionRoutes: FastifyPluginAsyncTypebox<TopicPartitionRoutesOptions> = async (app, { topics }) => {
  app.get('/topics/:topic/partitions/:partition/offsets', {
    schema: {
      tags: ['topics'],
      summary: 'A partition\'s earliest and latest offsets',
      params: PartitionParams,
      response: { 200: OffsetsSchema, ...errorResponses(400, 404, 503, 504) }
    }
  }, async (request) => {
    const { topic, partition } = request.params
    return { topic, ...await topics.offsets(topic, partition) }
  })

  app.get('/topics/:topic/partitions/:partition/records', {
    schema: {
      tags: ['topics'],
      summary: 'Read records by offset, each decoded exactly like a webhook envelope',
      description: 'Records from `offset` (default: the earliest kept; an older offset starts at the earliest) up to `limit`, the ' +
        `partition's latest offset when the read began, or ${MAX_READ_BYTES / 1024 / 1024} MiB of keys and values. An offset past the end answers no ` +
        'records and the latest offset as `nextOffset`. Each read joins its own short-lived consumer group (`kafka-http-gateway.reader.<clientId>.<uuid>`, ' +
        'never committed, deleted before the answer), so it waits for the broker\'s group.initial.rebalance.delay.ms (3 s by default). ' +
        `Within ${READ_TIMEOUT_MS / 1000} s it answers what it read so far, or 504 when that is nothing.`,
      params: PartitionParams,
      querystring: Type.Object({
        offset: Type.Optional(Type.String({ pattern: '^[0-9]{1,19}$', description: 'First offset to read (a decimal string)', examples: ['0'] })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_READ_RECORDS, default: DEFAULT_LIMIT, description: `Most records to return (1-${MAX_READ_RECORDS})` }))
      }, { additionalProperties: false }),
      // documented as the envelope; sent as the bytes batchBytes writes
      response: { 200: Type.Unsafe<Buffer>(RecordsSchema), ...errorResponses(400, 404, 503, 504) }
    }
  }, async (request, reply) => {
    const { topic, partition } = request.params
    const { offset, limit } = request.query
    const page = await topics.records(topic, partition, { limit: limit ?? DEFAULT_LIMIT, ...(offset !== undefined ? { offset } : {}) })
    // the webhook's own serializer, so values keep every digit and byte exactly as a webhook gets them
    return reply.type('application/json; charset=utf-8').send(batchBytes(page.records, { nextOffset: page.nextOffset }))
  })
}

export default topicPartitionRoutes
