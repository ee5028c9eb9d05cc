import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import {
  CONFLUENT_REQUEST_TYPE, CONFLUENT_V2, embeddedFormat, toConfluentError, toConfluentResponse, toProduceRequest, unsupportedMediaType
} from '../confluent/produce.js'
import { sendConfluentError } from '../confluent/errors.js'
import { logError, toAppError } from '../http/error-handler.js'
import { confluentErrorResponses } from '../http/schemas.js'
import { MAX_MESSAGES } from '../produce/plan.js'
import type { ProduceService } from '../produce/service.js'
import { TopicParams } from './topics.js'

const recordFields = {
  key: Type.Optional(Type.Unknown({ description: 'The key: any JSON value (json format, written as its JSON text) or a base64 string (binary format); null or absent for none' })),
  value: Type.Optional(Type.Unknown({ description: 'The value: any JSON value (json format, written as JSON) or a base64 string (binary format, written as its bytes); null or absent for a tombstone' }))
}
const partitionField = Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 2_147_483_647 }), Type.Null()], { description: 'The partition; absent or null: by key (murmur2), else round robin' }))

const body = (withPartition: boolean): ReturnType<typeof Type.Object> => Type.Object({
  records: Type.Array(Type.Object(withPartition ? { ...recordFields, partition: partitionField } : recordFields, { additionalProperties: false }), {
    minItems: 1, maxItems: MAX_MESSAGES, description: 'The records to write, answered in order'
  })
}, {
  additionalProperties: false,
  description: 'Confluent REST Proxy v2 produce body (schemas — key_schema, value_schema and their ids — are not supported)',
  examples: [{ records: [{ key: 'order-42', value: { id: 42 } }, { value: 'plain', partition: 0 }] }]
})

const ConfluentProduced = Type.Object({
  key_schema_id: Type.Null({ description: 'Always null (no schema registry)' }),
  value_schema_id: Type.Null({ description: 'Always null (no schema registry)' }),
  offsets: Type.Array(Type.Object({
    partition: Type.Integer({ description: 'Partition written' }),
    offset: Type.Integer({ description: 'Offset of the record' }),
    error_code: Type.Null({ description: 'Always null: a request is written whole or refused whole' }),
    error: Type.Null({ description: 'Always null' })
  }), { description: 'One entry per record, in request order' })
}, { examples: [{ key_schema_id: null, value_schema_id: null, offsets: [{ partition: 2, offset: 1041, error_code: null, error: null }] }] })

const errors = confluentErrorResponses(400, 404, 409, 413, 415, 422, 502, 503, 504)

const DESCRIPTION = 'Confluent REST Proxy v2 compatible produce. Content types: `application/vnd.kafka.json.v2+json` (JSON key and value), ' +
  '`application/vnd.kafka.binary.v2+json` or `application/vnd.kafka.v2+json` (base64 key and value, as v2 defaults to binary), and the same in v1 ' +
  '(`…v1+json`, what Confluent\'s node client kafka-rest 0.0.5 sends; the body is the same); others → 415. ' +
  'Written through the same produce service as POST /messages (batching, acks -1, the idempotent producer, `Idempotency-Key`); ' +
  'answers `application/vnd.kafka.v2+json`, errors as `{error_code, message}`.'

export interface ConfluentProduceRoutesOptions { produce: Pick<ProduceService, 'produce'> }

/** POST /topics/{topic} and /topics/{topic}/partitions/{partition}: thin over src/confluent/produce.ts and the produce service. */
const confluentProduceRoutes: FastifyPluginAsyncTypebox<ConfluentProduceRoutesOptions> = async (app, { produce }) => {
  // these bodies are JSON under Confluent's media types (this plugin's routes only)
  app.addContentTypeParser(/^application\/vnd\.kafka\.(?:json\.|binary\.)?v[12]\+json/i, { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'))
  app.addHook('preValidation', async (request) => {
    if (!CONFLUENT_REQUEST_TYPE.test(request.headers['content-type'] ?? '')) throw unsupportedMediaType(request.headers['content-type'])
  })
  app.setErrorHandler((err, request, reply) => {
    const appErr = toAppError(err)
    logError(request, appErr, err)
    return sendConfluentError(reply, appErr, toConfluentError(appErr, (request.params as { partition?: unknown }).partition !== undefined))
  })

  // documented media types (the OpenAPI generator reads these two)
  const media = { consumes: ['application/vnd.kafka.json.v2+json', 'application/vnd.kafka.binary.v2+json', 'application/vnd.kafka.v2+json'], produces: [CONFLUENT_V2] }
  const headers = Type.Object({
    'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$', description: 'As for POST /messages: a retry with the same key and body is answered from the first answer' }))
  })

  app.post('/topics/:topic', {
    schema: { ...media, tags: ['confluent-v2'], summary: 'Produce records (Confluent REST Proxy v2)', description: DESCRIPTION, params: TopicParams, headers, body: body(true), response: { 200: ConfluentProduced, ...errors } }
  }, async (request, reply) => {
    const idempotencyKey = request.headers['idempotency-key']
    const outcome = await produce.produce(toProduceRequest(request.params.topic, request.body as never, embeddedFormat(request.headers['content-type'])),
      { requestId: request.id, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) })
    if (outcome.replayed) reply.header('idempotent-replayed', 'true')
    return reply.type(CONFLUENT_V2).send(toConfluentResponse(outcome.body))
  })

  app.post('/topics/:topic/partitions/:partition', {
    schema: {
      ...media,
      tags: ['confluent-v2'],
      summary: 'Produce records to one partition (Confluent REST Proxy v2)',
      description: `${DESCRIPTION} Records carry no \`partition\` here.`,
      params: Type.Object({ ...TopicParams.properties, partition: Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'Partition id; one the topic lacks → 404 error_code 40402' }) }),
      headers,
      body: body(false),
      response: { 200: ConfluentProduced, ...errors }
    }
  }, async (request, reply) => {
    const { topic, partition } = request.params
    const idempotencyKey = request.headers['idempotency-key']
    const outcome = await produce.produce(toProduceRequest(topic, request.body as never, embeddedFormat(request.headers['content-type']), partition),
      { requestId: request.id, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) })
    if (outcome.replayed) reply.header('idempotent-replayed', 'true')
    return reply.type(CONFLUENT_V2).send(toConfluentResponse(outcome.body))
  })
}

export default confluentProduceRoutes
