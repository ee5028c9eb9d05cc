import t from 'tap'
import { startRedis } from '../scripts/lib/launch/redis.js'
import { startKafka } from '../scripts/lib/launch/kafka.js'
import { build, waitFor } from './helpers/build.js'

t.test('live is 200; ready is 200 with both dependencies up', async t => {
  const app = await build(t)
  const live = await app.inject({ method: 'GET', url: '/health/live' })
  t.same(live.json(), { status: 'ok' })
  const ready = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(ready.statusCode, 200)
  t.match(ready.json(), { status: 'ready', failed: [], checks: { kafka: { status: 'ok' }, redis: { status: 'ok' } } })
})

t.test('ready turns 503 naming redis within 5 s of Redis stopping, and recovers', async t => {
  const redis = await startRedis({ port: 0 })
  t.teardown(() => redis.stop())
  const app = await build(t, { REDIS_URL: redis.url })
  t.equal((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200)

  await redis.stop()
  const stoppedAt = Date.now()
  const down = await waitFor('ready 503', async () => {
    const res = await app.inject({ method: 'GET', url: '/health/ready' })
    return res.statusCode === 503 ? res : undefined
  }, 10_000)
  t.ok(Date.now() - stoppedAt < 5000, `503 after ${Date.now() - stoppedAt} ms`)
  t.match(down.json(), { status: 'unavailable', failed: ['redis'], checks: { redis: { status: 'fail' }, kafka: { status: 'ok' } } })
  t.equal(down.headers['retry-after'], '1')

  await redis.start()
  await waitFor('ready 200 again', async () => (await app.inject({ method: 'GET', url: '/health/ready' })).statusCode === 200, 15_000)
  t.pass('recovered after Redis returned')
})

t.test('ready turns 503 naming kafka when the broker stops', async t => {
  const kafka = await startKafka({ nodes: 1, port: 0 })
  t.teardown(() => kafka.stop())
  const app = await build(t, { KAFKA_BROKERS: kafka.bootstrap })
  await waitFor('ready 200', async () => (await app.inject({ method: 'GET', url: '/health/ready' })).statusCode === 200, 20_000)
  await kafka.stop()
  const down = await waitFor('ready 503', async () => {
    const res = await app.inject({ method: 'GET', url: '/health/ready' })
    return res.statusCode === 503 ? res : undefined
  }, 15_000)
  t.match(down.json(), { status: 'unavailable', failed: ['kafka'], checks: { kafka: { status: 'fail' }, redis: { status: 'ok' } } })
})
