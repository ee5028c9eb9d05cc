import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errorResponses } from '../http/schemas.js'
import { COMPRESSIONS } from '../kafka/codecs.js'
import { RESERVED_HEADERS } from '../kafka/record-format.js'
import { MAX_MESSAGES, MAX_TIMEOUT_MS } from '../produce/plan.js'
import type { ProduceService } from '../produce/service.js'

const messageFields = {
  value: Type.Optional(Type.Unknown({
    description: 'The record value, any JSON value. Objects, arrays, numbers and booleans are written as JSON ' +
      '(`content-type: application/json`); strings as UTF-8 text (`text/plain; charset=utf-8`); `null` is a tombstone ' +
      '(no value, no content-type). With `valueEncoding: "base64"` a base64 string is written as its exact bytes ' +
      '(`application/octet-stream`). Required in the single form (use `null` for a tombstone).'
  })),
  valueEncoding: Type.Optional(Type.Enum(['json', 'text', 'base64'], {
    description: 'How to write `value`: `json` (JSON.stringify, even for a string), `text` (a string as UTF-8), ' +
      '`base64` (a base64 string decoded to bytes, standard or URL-safe alphabet). Default: `text` for strings, `json` otherwise.'
  })),
  key: Type.Optional(Type.Unsafe<string | null>({
    type: 'string',
    nullable: true,
    maxLength: 1_048_576,
    description: 'The record key: UTF-8 text, or base64 bytes with `keyEncoding: "base64"` (the record then carries ' +
      '`key-encoding: binary`). Keyed records without `partitions`/`arrival` go to murmur2(key) % partitions, like the Java client.'
  })),
  keyEncoding: Type.Optional(Type.Enum(['text', 'base64'], { description: 'How to read `key`: `text` (default) or `base64` bytes.' })),
  headers: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 32_768, description: 'Header value (UTF-8)' }), {
    maxProperties: 100,
    description: `User record headers, name → string value. Reserved names (case-insensitive) are refused with 400: ${RESERVED_HEADERS.join(', ')}. ` +
      'Every record also carries `departure` (this gateway\'s client id), `x-request-id` (the HTTP request id), `content-type` ' +
      '(unless a tombstone) and, when routed by `arrival`, `arrival`.'
  })),
  partitions: Type.Optional(Type.Array(Type.Integer({ minimum: 0, description: 'A partition number of the topic' }), {
    minItems: 1,
    maxItems: 1000,
    uniqueItems: true,
    description: 'Send one copy of the message to each listed partition (seed `send`). A partition the topic does not have → 400 ' +
      'naming the topic\'s partition count. Wins over `arrival`.'
  })),
  arrival: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 255,
    description: 'A client id from the consumer registry (a gateway instance or a syrup-kafka process): the message goes, one copy each, ' +
      'to the partitions that client\'s partition-assigned (`custom-assigner`) consumer reads on this topic. Not registered, not alive ' +
      'or not partition-assigned → 422 naming the rule; never a silent fallback. Ignored (with a warning) when `partitions` is given.'
  }))
}

const MessageSchema = Type.Object(messageFields, {
  additionalProperties: false,
  description: 'One message of a batch: `value` is required (`null` for a tombstone).'
})

const OptionsSchema = Type.Object({
  acks: Type.Optional(Type.Enum([-1, 0, 1], { description: 'Acknowledgements: `-1` all in-sync replicas (default), `1` the leader, `0` none (answer 202 without offsets).' })),
  timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TIMEOUT_MS, description: 'How long the broker may wait for the acknowledgements, in ms (default 30000).' })),
  compression: Type.Optional(Type.Enum([...COMPRESSIONS], { description: 'Record batch compression: none (default), gzip, snappy, lz4, zstd — all really compress.' }))
}, { additionalProperties: false, description: 'Produce options (seed `send` options), applied to every message of the request.' })

const ProduceBody = Type.Object({
  topic: Type.String({
    description: 'Topic name (Kafka rules: 1-249 characters of `[A-Za-z0-9._-]`, not `.` or `..`). A topic that does not exist → 404, ' +
      'unless AUTO_CREATE_TOPICS=true (then it is created with the broker\'s defaults).'
  }),
  ...messageFields,
  messages: Type.Optional(Type.Array(MessageSchema, {
    minItems: 1,
    maxItems: MAX_MESSAGES,
    description: 'The batch form: several messages to `topic`, answered per record in order. The single-form fields (`value`, `key`, ' +
      '`headers`, `partitions`, `arrival`, encodings) then go inside each message.'
  })),
  options: Type.Optional(OptionsSchema)
}, {
  additionalProperties: false,
  description: 'One message (`value` and its fields at the top level) or a batch (`messages`) for one topic.',
  'x-examples': {
    single: { summary: 'One JSON message with a key and a header', value: { topic: 'orders', key: 'order-42', value: { orderId: 42, status: 'paid' }, headers: { source: 'billing' } } },
    text: { summary: 'Text to two partitions, one copy each', value: { topic: 'topicB', partitions: [0, 1], value: 'test message' } },
    arrival: { summary: 'To the partitions of a partition-assigned consumer', value: { topic: 'topicC', arrival: 'standalone-consumer', value: 'test message' } },
    binary: { summary: 'Bytes given in base64, gzip-compressed, leader ack only', value: { topic: 'blobs', value: 'AAECA/8=', valueEncoding: 'base64', options: { acks: 1, compression: 'gzip' } } },
    tombstone: { summary: 'A tombstone for a key', value: { topic: 'users', key: 'user-7', value: null } },
    batch: {
      summary: 'A batch, answered per record',
      value: { topic: 'orders', messages: [{ key: 'order-1', value: { orderId: 1 } }, { value: 'plain text', partitions: [0, 2] }, { key: 'order-2', value: null }], options: { compression: 'zstd' } }
    }
  }
})

const ResultSchema = Type.Object({
  index: Type.Integer({ description: 'Index of the message in the request (0 in the single form); a message with several partitions has one result per copy' }),
  topic: Type.String({ description: 'Topic the record was written to' }),
  partition: Type.Integer({ description: 'Partition the record was written to' }),
  offset: Type.String({ description: 'Offset of the record in its partition (a string: Kafka offsets are 64-bit)' })
}, { additionalProperties: false, description: 'Where one record landed' })

const UnackedResultSchema = Type.Object({
  index: Type.Integer({ description: 'Index of the message in the request' }),
  topic: Type.String({ description: 'Topic the record was sent to' }),
  partition: Type.Integer({ description: 'Partition the record was sent to' })
}, { additionalProperties: false, description: 'Where one record was sent (acks = 0: the broker does not report offsets)' })

const WarningSchema = Type.Object({
  code: Type.String({ description: 'Stable warning code, e.g. `ARRIVAL_IGNORED`' }),
  field: Type.String({ description: 'The field the warning is about, e.g. `body/arrival`' }),
  message: Type.String({ description: 'What happened, in words' })
}, { additionalProperties: false, description: 'Something the gateway did differently from what the request literally asked' })

const warnings = Type.Optional(Type.Array(WarningSchema, { description: 'Present only when there is something to say, e.g. `arrival` ignored in favour of `partitions`' }))

const ProducedSchema = Type.Object({
  results: Type.Array(ResultSchema, { description: 'One entry per record written, in request order' }),
  warnings
}, {
  additionalProperties: false,
  description: 'Every record written, with its partition and offset',
  'x-examples': {
    single: { summary: 'One message', value: { results: [{ index: 0, topic: 'orders', partition: 2, offset: '1041' }] } },
    batch: {
      summary: 'The batch example: the second message went to partitions 0 and 2',
      value: { results: [{ index: 0, topic: 'orders', partition: 1, offset: '77' }, { index: 1, topic: 'orders', partition: 0, offset: '80' }, { index: 1, topic: 'orders', partition: 2, offset: '1042' }, { index: 2, topic: 'orders', partition: 1, offset: '78' }] }
    },
    arrivalIgnored: {
      summary: 'partitions and arrival both given',
      value: { results: [{ index: 0, topic: 'topicD', partition: 0, offset: '5' }], warnings: [{ code: 'ARRIVAL_IGNORED', field: 'body/arrival', message: '`arrival` was ignored because `partitions` is given (partitions win)' }] }
    }
  }
})

const AcceptedSchema = Type.Object({
  results: Type.Array(UnackedResultSchema, { description: 'One entry per record sent, in request order, without offsets' }),
  warnings
}, { additionalProperties: false, description: 'acks = 0: records sent, not acknowledged', examples: [{ results: [{ index: 0, topic: 'metrics', partition: 3 }] }] })

/** POST /messages: thin over the produce service (src/produce/service.ts). */
export interface MessageRoutesOptions { produce: Pick<ProduceService, 'produce'> }

const messageRoutes: FastifyPluginAsyncTypebox<MessageRoutesOptions> = async (app, { produce }) => {
  app.post('/messages', {
    schema: {
      tags: ['messages'],
      summary: 'Produce one message or a batch; answers with every record\'s partition and offset',
      description: 'syrup-kafka\'s `send` over HTTP. Concurrent requests are coalesced into Kafka batches (PRODUCE_LINGER_MS, ' +
        'PRODUCE_MAX_BATCH_RECORDS, PRODUCE_MAX_BATCH_BYTES). Errors: 400 invalid body (the field is named), 404 unknown topic, ' +
        '409/422 Idempotency-Key conflicts, 413 too large, 422 `arrival` unroutable, 503 Kafka or Redis unavailable (Retry-After), ' +
        '504 Kafka timeout (the records may or may not have been written).',
      headers: Type.Object({
        'idempotency-key': Type.Optional(Type.String({
          minLength: 1,
          maxLength: 255,
          pattern: '^[\\x21-\\x7e]+$',
          description: 'Makes retries safe: the first answer (200/202) is kept for IDEMPOTENCY_TTL_SECONDS; a retry with the same key and ' +
            'body gets it back (header `idempotent-replayed: true`) and produces nothing; the same key with another body → 422; ' +
            'while the first request runs → 409. Failed requests are not kept. Needs Redis (503 when it is down).'
        }))
      }),
      body: ProduceBody,
      response: {
        200: ProducedSchema,
        202: AcceptedSchema,
        ...errorResponses(400, 401, 403, 404, 409, 413, 415, 422, 502, 503, 504)
      }
    }
  }, async (request, reply) => {
    const idempotencyKey = request.headers['idempotency-key']
    const outcome = await produce.produce(request.body, {
      requestId: request.id,
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {})
    })
    if (outcome.replayed) reply.header('idempotent-replayed', 'true')
    return reply.code(outcome.status).send(outcome.body)
  })
}

export default messageRoutes
