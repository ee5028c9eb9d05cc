/** Pull instances: polling records, committing and reading offsets, moving positions. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import { fieldError } from '../errors.js'
import { contentTypeOf, recordFormat, recordsBody } from '../pull/formats.js'
import type { PollOptions, PullService, SeekTarget } from '../pull/service.js'
import type { PullInstanceRecord, RecordFormat } from '../pull/types.js'
import type { ConsumedRecord } from '../webhooks/types.js'
import { EdgeBodySchema, INSTANCE_PREFIXES, InstanceParams, isConfluentPath, OffsetListSchema, OffsetsBodySchema, pullErrors, RecordsQuerySchema, SeekBodySchema } from './pull-schemas.js'

const tags = ['pull-consumers']
const NoContent = Type.Null({ description: 'No content' })
/** Documented as an array of envelopes or Confluent records; sent as the bytes of the text formats.ts writes. */
const RecordsAnswer = Type.Unsafe<Buffer>(Type.Unknown({ description: '`{"records":[<webhook envelope>…]}` (see GET /topics/{topic}/partitions/{partition}/records), or with a Confluent Accept header an array of `{topic, key, value, partition, offset}`' }))

/** The query's limits, native or Confluent names. */
const pollOptions = (q: Static<typeof RecordsQuerySchema>): PollOptions => ({ timeoutMs: q.timeoutMs ?? q.timeout, maxRecords: q.maxRecords, maxBytes: q.maxBytes ?? q.max_bytes })

/** The records in the shape the Accept header (or the instance's `format`) asks for, as bytes (formats.ts). */
function answered ({ records, record }: { records: ConsumedRecord[], record: PullInstanceRecord }, accept: string | undefined): { format: RecordFormat, body: Buffer } {
  const format = recordFormat(accept, record.settings.format)
  return { format, body: recordsBody(records, format) }
}

/**
 * The offset a commit writes. Native paths take the next offset to read (Strimzi's meaning); Confluent v2
 * clients send the offset of the last record they processed and REST Proxy commits the one after it.
 */
function committedOffset (prefix: string, offset: string | number): string {
  return isConfluentPath(prefix) ? (BigInt(offset) + 1n).toString() : String(offset)
}

const pullRecordRoutes: FastifyPluginAsyncTypebox<{ pull: PullService }> = async (app, { pull }) => {
  for (const prefix of INSTANCE_PREFIXES) {
    app.get(`${prefix}/records`, {
      schema: {
        tags,
        summary: 'Long-poll records: in offset order per partition, each handed out once',
        description: 'Waits up to `timeoutMs` for a first record, then answers what is fetched, up to `maxRecords` and `maxBytes`. Polled records are ' +
          'committed only by POST …/offsets; when the gateway instance holding the consumer dies, another takes it over from the committed ' +
          'offsets, so polled-but-uncommitted records come again (the only duplicates). Accept `application/vnd.kafka.json.v2+json` or ' +
          '`application/vnd.kafka.binary.v2+json` for Confluent\'s record shape. No subscription or assignment → 409.',
        params: InstanceParams,
        querystring: RecordsQuerySchema,
        response: { 200: RecordsAnswer, ...pullErrors(prefix, 400, 404, 409, 503) }
      }
    }, async (request, reply) => {
      const polled = await pull.poll(request.params.groupId, request.params.instanceId, pollOptions(request.query))
      const { format, body } = answered(polled, request.headers.accept)
      return await reply.type(contentTypeOf(format)).send(body)
    })

    if (isConfluentPath(prefix)) {
      app.get(`${prefix}/topics/:topic`, {
        schema: {
          tags,
          summary: 'Confluent v1\'s read of one topic (what the kafka-rest node client calls): subscribes to the topic if needed, then polls',
          description: 'Answers like GET …/records (Confluent\'s shapes with their Accept types). An instance with an explicit assignment → 409.',
          params: Type.Object({ ...InstanceParams.properties, topic: Type.String({ minLength: 1, maxLength: 249, description: 'Topic to read' }) }),
          querystring: RecordsQuerySchema,
          response: { 200: RecordsAnswer, ...pullErrors(prefix, 400, 404, 409, 503) }
        }
      }, async (request, reply) => {
        const { groupId, instanceId, topic } = request.params
        const { format, body } = answered(await pull.pollTopic(groupId, instanceId, topic, pollOptions(request.query)), request.headers.accept)
        return await reply.type(contentTypeOf(format)).send(body)
      })
    }

    app.post(`${prefix}/offsets`, {
      schema: {
        tags,
        summary: 'Commit offsets: the ones given, or (no body) the offset after every record polled',
        description: 'Under `/consumer-groups/…` each given offset is the next one to read (what is committed). Under Confluent\'s `/consumers/…` it is the offset of the last record processed, and the one after it is committed, as REST Proxy does.',
        params: InstanceParams,
        body: OffsetsBodySchema,
        response: { 200: OffsetListSchema, ...pullErrors(prefix, 400, 404, 503) }
      }
    }, async (request) => {
      const given = request.body.offsets
      const offsets = given === undefined || given.length === 0 ? undefined : given.map(o => ({ topic: o.topic, partition: o.partition, offset: committedOffset(prefix, o.offset) }))
      return { offsets: await pull.commit(request.params.groupId, request.params.instanceId, offsets) }
    })

    app.get(`${prefix}/offsets`, {
      schema: { tags, summary: 'The group\'s committed offsets on every partition of the instance\'s topics', params: InstanceParams, response: { 200: OffsetListSchema, ...pullErrors(prefix, 400, 404, 503) } }
    }, async (request) => ({ offsets: await pull.committed(request.params.groupId, request.params.instanceId) }))

    app.post(`${prefix}/positions`, {
      schema: {
        tags,
        summary: 'Seek: where each partition reads next, by offset or timestamp',
        description: 'Records already fetched for these partitions are dropped; what was polled there is no longer part of a commit without a body.',
        params: InstanceParams,
        body: SeekBodySchema,
        response: { 204: NoContent, ...pullErrors(prefix, 400, 404, 503) }
      }
    }, async (request, reply) => {
      const targets: SeekTarget[] = request.body.offsets.map((o, i) => {
        if ((o.offset === undefined) === (o.timestamp === undefined)) throw fieldError(`body/offsets/${i}`, 'oneOf', 'give exactly one of offset and timestamp')
        return o.offset !== undefined ? { topic: o.topic, partition: o.partition, offset: String(o.offset) } : { topic: o.topic, partition: o.partition, timestamp: o.timestamp as number }
      })
      await pull.seek(request.params.groupId, request.params.instanceId, targets)
      return await reply.code(204).send(null)
    })

    for (const edge of ['beginning', 'end'] as const) {
      app.post(`${prefix}/positions/${edge}`, {
        schema: { tags, summary: `Seek to the ${edge} of partitions (no body: every partition the instance holds)`, params: InstanceParams, body: EdgeBodySchema, response: { 204: NoContent, ...pullErrors(prefix, 400, 404, 503) } }
      }, async (request, reply) => {
        await pull.seekEdge(request.params.groupId, request.params.instanceId, request.body.partitions, edge)
        return await reply.code(204).send(null)
      })
    }
  }
}

export default pullRecordRoutes
