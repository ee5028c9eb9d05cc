/**
 * A broker that goes away and comes back while a delivery waits on its webhook: the deliverer's heartbeats
 * fail with connection errors, not membership errors, so the group keeps its generation and must keep
 * delivering once the broker is back. (It used to end the generation on any heartbeat error; with no
 * rebalance coming to start a new one, every later batch returned at once and the group stopped for good.)
 */
import t from 'tap'
import { startKafka } from '../../scripts/lib/launch/kafka.js'
import { captureLogger, uniqueName, waitFor } from '../helpers/build.js'
import { createTopic, defineGroup, e2eGateway } from './helpers/gateway.js'
import { startHook, type Reply } from './helpers/hook.js'

t.test('a broker restart during a held delivery does not stop the group', async t => {
  const kafka = await startKafka({ nodes: 1, port: 0 })
  t.teardown(() => kafka.stop())
  const { logger, logs } = captureLogger('info')
  const app = await e2eGateway(t, { logger, env: { KAFKA_BROKERS: kafka.bootstrap } })
  const topic = await createTopic(app, 1, 'blip')
  const groupId = uniqueName('blip')
  let release: () => void = () => {}
  const held = new Promise<void>(resolve => { release = resolve })
  const hook = await startHook(t, async (hit): Promise<Reply> => {
    if (hit.body.value === 'held') await held
    return { status: 204 }
  })
  await defineGroup(app, groupId, {
    isPartitionAssign: false,
    fromBeginning: true,
    topics: [{ name: topic }],
    webhook: { url: hook.url, timeoutMs: 120_000 },
    // a long session: the member survives the restart, so no rebalance renews the generation
    consumer: { sessionTimeoutMs: 60_000, heartbeatIntervalMs: 500, maxWaitTimeMs: 100 }
  })
  await waitFor('the group to join', () => logs.lines().some(l => l.event === 'JOIN_GROUP' && l.groupId === groupId), 30_000)

  const produce = async (value: string): Promise<void> => {
    await waitFor(`POST /messages to accept ${value}`, async () => {
      const res = await app.inject({ method: 'POST', url: '/messages', payload: { topic, value } })
      return res.statusCode === 200
    }, 90_000, 250)
  }
  await produce('before')
  await produce('held')
  await waitFor('the held request to arrive', () => hook.hits.some(h => h.body.value === 'held'), 30_000)

  await kafka.stopNode(0)
  const heartbeatFailed = (): boolean => logs.lines().some(l => l.groupId === groupId && l.msg === 'consumer heartbeat failed during webhook delivery')
  await waitFor('a heartbeat to fail while the broker is down', heartbeatFailed, 30_000)
  await kafka.startNode(0)
  release()
  await produce('after')

  await waitFor('every record delivered after the restart', () => ['before', 'held', 'after'].every(v => hook.ok().some(h => h.body.value === v)), 90_000)
  const values = hook.ok().map(h => h.body.value)
  t.same([...new Set(values)], ['before', 'held', 'after'], `delivered in order (${JSON.stringify(values)})`)
})
