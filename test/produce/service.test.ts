import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { createKafkaCore } from '../../src/kafka/core.js'
import { createTopicMetadataCache } from '../../src/kafka/topics.js'
import { createIdempotencyStore } from '../../src/produce/idempotency.js'
import { createProduceService, type ProduceService } from '../../src/produce/service.js'
import type { ProduceEvent } from '../../src/produce/types.js'
import { createArrivalResolver } from '../../src/registry/arrival.js'
import { registryKeys } from '../../src/registry/keys.js'
import { build, testConfig, uniqueName, waitFor } from '../helpers/build.js'
import { createTopic, recordCount } from './helpers.js'
import { createTopicsAndWait } from '../../src/kafka/create-topics.js'

/** The service from its factory, without Fastify: the same pieces the plugin wires. */
async function service (t: Test, env: Record<string, string> = {}): Promise<{ svc: ProduceService, events: ProduceEvent[], admin: () => ReturnType<ReturnType<typeof createKafkaCore>['connectedAdmin']> }> {
  const config = testConfig(env)
  const logger = pino({ level: 'silent' })
  const kafka = createKafkaCore(config, logger)
  const redis = new Redis(config.redis.url)
  t.teardown(async () => { await kafka.close(); redis.disconnect() })
  const keys = registryKeys(config.registry.key)
  const getAdmin = (): ReturnType<typeof kafka.connectedAdmin> => kafka.connectedAdmin()
  const events: ProduceEvent[] = []
  const svc = createProduceService({
    kafka,
    topics: createTopicMetadataCache(getAdmin),
    arrival: createArrivalResolver({ redis, keys, getAdmin, logger }),
    idempotency: createIdempotencyStore({ redis, keys, ttlSeconds: 60, logger }),
    config: config.produce,
    logger,
    observer: e => events.push(e)
  })
  t.teardown(() => svc.close())
  return { svc, events, admin: getAdmin }
}

t.test('the factory works without Fastify; the observer sees batches and requests, successes and failures', async t => {
  const { svc, events, admin } = await service(t)
  const topic = uniqueName('svc')
  await createTopicsAndWait((await admin()), { topics: [{ topic, numPartitions: 2 }] })

  const out = await svc.produce({ topic, messages: [{ key: 'k', value: 'abc' }, { value: { n: 1 }, partitions: [0, 1] }] }, { requestId: 'req-1' })
  t.equal(out.status, 200)
  t.equal(out.replayed, false)
  t.equal(out.body.results.length, 3)
  const batch = events.find(e => e.kind === 'batch')
  const request = events.find(e => e.kind === 'request')
  t.match(batch, { kind: 'batch', records: 3, requests: 1, bytes: 1 + 3 + 7 + 7, perTopic: { [topic]: { records: 3, bytes: 18 } }, compression: 'none', acks: -1 })
  t.match(request, { kind: 'request', topic, records: 3, bytes: 18, status: 200 })
  t.ok((request as { durationMs: number }).durationMs > 0)

  const missing = uniqueName('svc-missing')
  await t.rejects(svc.produce({ topic: missing, value: 1 }, { requestId: 'req-2' }), { statusCode: 404, code: 'GW_TOPIC_NOT_FOUND' })
  t.match(events.at(-1), { kind: 'request', topic: missing, records: 0, status: 404 })
  await t.rejects(svc.produce({ topic: '..', value: 1 }, { requestId: 'req-3' }), { statusCode: 400, code: 'GW_VALIDATION' })
  t.match(events.at(-1), { kind: 'request', topic: '', status: 400 }, 'an illegal topic name is not reported as a topic')

  const extra: ProduceEvent[] = []
  const stop = svc.observe(e => extra.push(e))
  await svc.produce({ topic, value: 'x' }, { requestId: 'req-4' })
  stop()
  await svc.produce({ topic, value: 'y' }, { requestId: 'req-5' })
  t.equal(extra.length, 2, 'an added observer sees events until removed')
  t.match(svc.stats(), { batches: 3, records: 5, failedBatches: 0, perTopic: { [topic]: { records: 5 } } })
})

t.test('close() sends what is gathering and refuses what comes after', async t => {
  const { svc, admin } = await service(t, { PRODUCE_LINGER_MS: '1000' })
  const topic = uniqueName('svc-close')
  await createTopicsAndWait((await admin()), { topics: [{ topic, numPartitions: 1 }] })
  await svc.produce({ topic, value: 'warm' }, { requestId: 'r' })
  const pending = Promise.all(Array.from({ length: 4 }, (_, i) => svc.produce({ topic, value: `v${i}` }, { requestId: `r${i}` })))
  await waitFor('records gathering', () => svc.stats().gathering === 4)
  const started = Date.now()
  await svc.close()
  t.ok(Date.now() - started < 1000, 'sent at once, not after the linger')
  t.same((await pending).map(o => o.status), [200, 200, 200, 200])
  await t.rejects(svc.produce({ topic, value: 'late' }, { requestId: 'late' }), { statusCode: 503, code: 'GW_SHUTTING_DOWN' })
})

t.test('app.close() flushes accepted batches before Kafka disconnects', async t => {
  const app = await build(t, { PRODUCE_LINGER_MS: '1000' })
  const topic = uniqueName('app-close')
  await createTopic(app, topic, 1)
  const counter = await build(t)
  const inflight = Array.from({ length: 5 }, (_, i) => app.inject({ method: 'POST', url: '/messages', payload: { topic, value: `accepted-${i}` } }))
  await waitFor('requests gathering', () => app.produce.stats().gathering === 5)
  const started = Date.now()
  await app.close()
  t.ok(Date.now() - started < 1000, `closed in ${Date.now() - started} ms, without waiting for the linger`)
  t.same((await Promise.all(inflight)).map(r => r.statusCode), [200, 200, 200, 200, 200])
  t.equal(await recordCount(counter, topic), 5, 'every accepted record is in Kafka')
})
