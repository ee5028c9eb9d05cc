/**
 * An endpoint that goes down and comes back, through the gateway: while it is down the group keeps its
 * membership (no rebalance), retries with backoff, shows the failure in its status and metrics, and once the
 * endpoint is back every record is delivered — none lost, none dead-lettered, none twice.
 */
import t from 'tap'
import { captureLogger, uniqueName, waitFor } from '../helpers/build.js'
import { FAST_CONSUMER, createTopic, defineGroup, e2eGateway, groupView, metricsText, postMessages, sample } from './helpers/gateway.js'
import { startHook } from './helpers/hook.js'

t.test('endpoint down then up: every record delivered once, no dead letter, no rebalance', async t => {
  const { logger, logs } = captureLogger('info')
  const app = await e2eGateway(t, { logger })
  const topic = await createTopic(app, 2, 'outage')
  const groupId = uniqueName('outage')
  const hook = await startHook(t)
  const id = app.kafka.clientId

  await defineGroup(app, groupId, { isPartitionAssign: false, fromBeginning: true, topics: [{ name: topic }], webhook: { url: hook.url }, consumer: FAST_CONSUMER })
  const before = Array.from({ length: 20 }, (_v, i) => `before-${i}`)
  await postMessages(app, topic, before.map((value, i) => ({ value, partitions: [i % 2] })))
  await waitFor('the first 20 delivered', () => hook.ok().length === 20, 30_000)

  await hook.down()
  const downAt = Date.now()
  const during = Array.from({ length: 20 }, (_v, i) => `during-${i}`)
  await postMessages(app, topic, during.map((value, i) => ({ value, partitions: [i % 2] })))

  // while down: both partitions wait on a retry; the status and the metrics say so
  const down = await waitFor('the status to show the outage', async () => {
    const s = (await groupView(app, groupId)).instances[id]
    return s !== undefined && s.inFlight === 2 && s.retried >= 2 && s.lastStatus === null && (s.lag ?? 0) >= 18 ? s : undefined
  }, 15_000)
  t.match(down.lastError, /ECONNREFUSED|connect/i, 'lastError names the connection failure')
  for (const p of down.byPartition) {
    t.equal(p.inFlight, 1, `partition ${p.partition}: one record in flight`)
    t.equal(p.lastStatus, null, `partition ${p.partition}: no response`)
    t.ok((p.lag ?? 0) >= 9, `partition ${p.partition}: lag ${String(p.lag)} while down`)
  }
  const text = await waitFor('retries pending in the metrics', async () => {
    const m = await metricsText(app)
    return sample(m, 'gateway_webhook_retries_pending', { group: groupId }) === 2 ? m : undefined
  }, 10_000)
  t.ok((sample(text, 'gateway_webhook_responses_total', { group: groupId, status_class: 'network' }) ?? 0) >= 2, 'network failures counted')

  // keep it down for a few seconds (several retries), then bring it back
  await waitFor('a few retries', async () => ((await groupView(app, groupId)).instances[id]?.retried ?? 0) >= 6 && Date.now() - downAt > 3000, 20_000)
  await hook.up()
  await waitFor('every record delivered after the endpoint returned', () => {
    const got = new Set(hook.ok().map(h => String(h.body.value)))
    return [...before, ...during].every(v => got.has(v))
  }, 45_000)
  t.equal(hook.ok().length, 40, 'each record exactly once (refused connections never reached the receiver)')

  const after = await waitFor('the status to settle', async () => {
    const s = (await groupView(app, groupId)).instances[id]
    return s?.delivered === 40 && s.lag === 0 && s.inFlight === 0 ? s : undefined
  }, 15_000)
  t.equal(after.deadLettered, 0, 'nothing dead-lettered')
  t.equal(after.lastStatus, 204)
  const m = await metricsText(app)
  t.equal(sample(m, 'gateway_webhook_retries_pending', { group: groupId }), 0, 'no retry pending any more')
  t.equal(sample(m, 'gateway_webhook_deliveries_total', { group: groupId, outcome: 'delivered' }), 40)
  t.equal(sample(m, 'gateway_webhook_deliveries_total', { group: groupId, outcome: 'dead-lettered' }) ?? 0, 0)
  const joins = logs.lines().filter(l => l.event === 'JOIN_GROUP' && l.groupId === groupId)
  t.equal(joins.length, 1, 'joined once: the outage caused no rebalance')
})
