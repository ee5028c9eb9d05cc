/**
 * A deleted topic must not take POST /messages down for the other topics.
 *
 * kafkajs keeps every topic its producer has written to among the producer cluster's target topics
 * (cluster/index.js addMultipleTargetTopics) and names them all in every metadata refresh; once one of
 * them is deleted, each refresh fails with UNKNOWN_TOPIC_OR_PARTITION (the metadata response parser
 * throws on any topic error), so every send that needs fresh metadata fails: a topic the producer never
 * wrote to at once, every topic once the cached metadata expires (metadataMaxAge) or a leader moves.
 * The gateway replaces the producer when that happens (src/kafka/replaceable-producer.ts).
 *
 * Topics are deleted with a separate admin client, as `kafka-topics --delete` would: the gateway's own
 * clients learn of it only from Kafka's answers.
 */
import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Admin } from 'kafkajs'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { createKafkaCore, type KafkaCore } from '../../src/kafka/core.js'
import { createTopicMetadataCache } from '../../src/kafka/topics.js'
import { kafkaErrorType } from '../../src/kafka/error-mapping.js'
import { createProduceService } from '../../src/produce/service.js'
import { createArrivalResolver } from '../../src/registry/arrival.js'
import { registryKeys } from '../../src/registry/keys.js'
import { build, captureLogger, testConfig, uniqueName, waitFor } from '../helpers/build.js'
import { createTopic, readRecords } from './helpers.js'
import { createTopicsAndWait } from '../../src/kafka/create-topics.js'

const post = (app: FastifyInstance, payload: unknown): Promise<LightMyRequestResponse> =>
  app.inject({ method: 'POST', url: '/messages', payload: payload as object })

/** An admin client of its own (as an operator's tool would be), disconnected when the test ends. */
async function operatorAdmin (t: Test, kafka: KafkaCore): Promise<Admin> {
  const admin = kafka.kafka.admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  return admin
}

async function deleteTopic (admin: Admin, topic: string): Promise<void> {
  await admin.deleteTopics({ topics: [topic], timeout: 10_000 })
  await waitFor(`deletion of ${topic} visible in the metadata`, async () => !(await admin.listTopics()).includes(topic), 30_000)
}

const valuesOf = (records: Array<{ value: Buffer | null }>): string[] => records.map(r => r.value?.toString() ?? '').sort()

t.test('POST /messages: deleting one topic leaves produce to the others working; the deleted one is 404; re-created, 200 again', async t => {
  const { logger, logs } = captureLogger('info')
  const app = await build(t, {}, logger)
  const [a, b, c] = [uniqueName('deleted-a'), uniqueName('deleted-b'), uniqueName('deleted-c')]
  await createTopic(app, a)
  await createTopic(app, b)
  const ops = await operatorAdmin(t, app.kafka)

  t.equal((await post(app, { topic: a, value: 'a1' })).statusCode, 200)
  t.equal((await post(app, { topic: b, value: 'b1' })).statusCode, 200)

  await deleteTopic(ops, a)
  await createTopic(app, c)

  const b2 = await post(app, { topic: b, value: 'b2' })
  t.equal(b2.statusCode, 200, `B after A's deletion: ${b2.body}`)
  // a topic the producer never wrote to makes kafkajs refresh the metadata of all its target topics, A's too
  const c1 = await post(app, { topic: c, value: 'c1' })
  t.equal(c1.statusCode, 200, `a new topic after A's deletion: ${c1.body}`)
  const a2 = await post(app, { topic: a, value: 'a2' })
  t.equal(a2.statusCode, 404, `A after its deletion: ${a2.body}`)
  t.match(a2.json(), { code: 'GW_TOPIC_NOT_FOUND', details: [{ field: 'body/topic', rule: 'topicExists' }] })
  const b3 = await post(app, { topic: b, value: 'b3' })
  t.equal(b3.statusCode, 200, `B after the 404 on A: ${b3.body}`)

  t.same(valuesOf(await readRecords(t, app, b, 3)), ['b1', 'b2', 'b3'], 'every record of B is readable, once')
  t.same(valuesOf(await readRecords(t, app, c, 1)), ['c1'])

  await createTopic(app, a)
  const a3 = await post(app, { topic: a, value: 'a3' })
  t.equal(a3.statusCode, 200, `A re-created: ${a3.body}`)
  t.same(valuesOf(await readRecords(t, app, a, 1)), ['a3'], 'the re-created topic holds only the new record')

  const replaced = logs.lines().filter(l => l.msg === 'replacing the Kafka producer')
  t.equal(replaced.length, 1, 'the producer was replaced once')
  t.match(replaced[0], { level: 40, component: 'kafka', deletedTopics: [a] })
})

t.test('with a topic cache that still lists the deleted topic, its send reaches Kafka: 404, and the producer is replaced once', async t => {
  const { logger, logs } = captureLogger('info')
  const config = testConfig()
  const kafka = createKafkaCore(config, logger)
  const redis = new Redis(config.redis.url)
  t.teardown(async () => { await kafka.close(); redis.disconnect() })
  const getAdmin = (): Promise<Admin> => kafka.connectedAdmin()
  const svc = createProduceService({
    kafka,
    // an hour: the topic cache keeps believing in the deleted topic, so the send goes to Kafka
    topics: createTopicMetadataCache(getAdmin, 3_600_000),
    arrival: createArrivalResolver({ redis, keys: registryKeys(config.registry.key), getAdmin, logger }),
    config: config.produce,
    logger
  })
  t.teardown(() => svc.close())
  const [a, b, c] = [uniqueName('stale-a'), uniqueName('stale-b'), uniqueName('stale-c')]
  const admin = await getAdmin()
  await createTopicsAndWait(admin, { topics: [{ topic: a }, { topic: b }] })
  const ops = await operatorAdmin(t, kafka)

  t.equal((await svc.produce({ topic: a, value: 'a1' }, { requestId: 'a1' })).status, 200)
  t.equal((await svc.produce({ topic: b, value: 'b1' }, { requestId: 'b1' })).status, 200)
  await deleteTopic(ops, a)

  // the deleted topic's requests and other topics' requests at the same time
  const results = await Promise.allSettled([
    svc.produce({ topic: a, value: 'a2' }, { requestId: 'a2' }),
    ...Array.from({ length: 10 }, (_, i) => svc.produce({ topic: b, value: `b${i + 2}` }, { requestId: `b${i + 2}` }))
  ])
  const [deleted, ...others] = results
  t.match(deleted, { status: 'rejected', reason: { statusCode: 404, code: 'GW_TOPIC_NOT_FOUND' } }, 'the deleted topic answers 404')
  t.same(others.map(r => r.status === 'fulfilled' ? r.value.status : (r.reason as Error).message), Array(10).fill(200), 'B, sent alongside, is written')

  await createTopicsAndWait(admin, { topics: [{ topic: c }] })
  const c1 = await svc.produce({ topic: c, value: 'c1' }, { requestId: 'c1' }).catch((err: Error) => err)
  t.match(c1, { status: 200 }, 'a topic the producer never wrote to is written')
  await t.rejects(svc.produce({ topic: a, value: 'a3' }, { requestId: 'a3' }), { statusCode: 404, code: 'GW_TOPIC_NOT_FOUND' },
    'the topic cache was refreshed: still 404')

  const replaced = logs.lines().filter(l => l.msg === 'replacing the Kafka producer')
  t.equal(replaced.length, 1, 'one replacement for one deleted topic')
  t.match(replaced[0], { component: 'kafka', deletedTopics: [a] })
})

t.test('the core\'s producer heals for every user: a reference taken before the deletion keeps working', async t => {
  const kafka = createKafkaCore(testConfig(), pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }))
  t.teardown(() => kafka.close())
  const ops = await operatorAdmin(t, kafka)
  const [a, b, c] = [uniqueName('core-a'), uniqueName('core-b'), uniqueName('core-c')]
  await createTopicsAndWait(ops, { topics: [{ topic: a }, { topic: b }] })
  const producer = await kafka.connectedProducer()
  await producer.send({ topic: a, messages: [{ value: 'a1' }] })
  await producer.send({ topic: b, messages: [{ value: 'b1' }] })
  await deleteTopic(ops, a)
  await createTopicsAndWait(ops, { topics: [{ topic: c }] })

  const sent = await Promise.allSettled([
    producer.send({ topic: c, messages: [{ value: 'c1' }] }),
    ...Array.from({ length: 5 }, (_, i) => producer.send({ topic: b, messages: [{ value: `b${i + 2}` }] }))
  ])
  t.same(sent.map(s => s.status === 'fulfilled' ? 'ok' : (s.reason as Error).message), Array(6).fill('ok'), 'C (new) and B are written')
  const refused = await producer.send({ topic: a, messages: [{ value: 'a2' }] }).then(() => undefined, (err: unknown) => err)
  t.equal(kafkaErrorType(refused), 'UNKNOWN_TOPIC_OR_PARTITION', 'the deleted topic is refused as unknown')
  t.not(await kafka.connectedProducer(), producer, 'connectedProducer() gives the replacement')
  await producer.send({ topic: b, messages: [{ value: 'b-late' }] })
  t.pass('the old reference still sends (through the replacement)')
  const offsets = await ops.fetchTopicOffsets(b)
  t.equal(offsets.reduce((n, p) => n + Number(p.high), 0), 7, 'B holds each record once')
})

t.test('a topic the producer keeps writing to survives the expiry of the producer\'s metadata after another topic\'s deletion', async t => {
  // kafkajs refreshes expired metadata (metadataMaxAge, 5 min by default) for all its target topics
  const kafka = createKafkaCore(testConfig(), pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), { producerMetadataMaxAgeMs: 300 })
  t.teardown(() => kafka.close())
  const ops = await operatorAdmin(t, kafka)
  const [a, b] = [uniqueName('expiry-a'), uniqueName('expiry-b')]
  await createTopicsAndWait(ops, { topics: [{ topic: a }, { topic: b }] })
  const producer = await kafka.connectedProducer()
  await producer.send({ topic: a, messages: [{ value: 'a1' }] })
  await producer.send({ topic: b, messages: [{ value: 'b1' }] })
  await deleteTopic(ops, a)
  await new Promise(resolve => setTimeout(resolve, 500))
  for (let i = 2; i <= 4; i++) {
    await producer.send({ topic: b, messages: [{ value: `b${i}` }] })
    await new Promise(resolve => setTimeout(resolve, 400))
  }
  t.pass('B is written after each expiry')
  const offsets = await ops.fetchTopicOffsets(b)
  t.equal(offsets.reduce((n, p) => n + Number(p.high), 0), 4, 'B holds each record once')
})
