/**
 * The metrics move with real traffic: records produced with POST /messages are counted per topic,
 * deliveries per outcome and status class, a retry shows as pending while it waits, the group's lag gauge
 * rises while the webhook holds the first record and drops to 0 once everything is delivered, and the
 * registry heartbeat age stays within a heartbeat or two.
 */
import t from 'tap'
import { uniqueName, waitFor } from '../helpers/build.js'
import { FAST_CONSUMER, createTopic, defineGroup, e2eGateway, metricsText, postMessages, sample } from './helpers/gateway.js'
import { startHook, type Reply } from './helpers/hook.js'

const N = 60

t.test('produce, delivery, retry, lag and heartbeat metrics follow the traffic', async t => {
  const app = await e2eGateway(t)
  const topic = await createTopic(app, 3, 'metrics')
  const groupId = uniqueName('metrics')

  let released = false
  let release: () => void = () => {}
  const held = new Promise<void>(resolve => { release = () => { released = true; resolve() } })
  let refused = 0
  const hook = await startHook(t, async (hit): Promise<Reply> => {
    const seq = (hit.body.value as { seq: number }).seq
    if (seq === 0) await held // the first record of partition 0 waits until the test saw the lag
    if (seq === 1 && !released) {
      // the first record of partition 1 is refused (and retried) until then
      refused++
      return { status: 503, headers: { 'retry-after': '1' } }
    }
    return { status: 202 }
  })

  // two requests: 40 then 20 records
  const messages = Array.from({ length: N }, (_v, seq) => ({ value: { seq }, partitions: [seq % 3] }))
  await postMessages(app, topic, messages.slice(0, 40))
  await postMessages(app, topic, messages.slice(40))
  const produced = await metricsText(app)
  t.equal(sample(produced, 'gateway_produce_records_total', { topic }), N, 'records counted per topic')
  t.ok((sample(produced, 'gateway_produce_bytes_total', { topic }) ?? 0) >= N * '{"seq":0}'.length, 'bytes counted per topic')
  t.equal(sample(produced, 'gateway_produce_latency_seconds_count', { topic }), 2, 'one latency sample per request')
  t.ok((sample(produced, 'gateway_produce_batch_records_count') ?? 0) >= 2, 'batch sizes observed')
  t.ok((sample(produced, 'gateway_produce_batch_records_sum') ?? 0) >= N, 'batch sizes add up to at least the records')

  await defineGroup(app, groupId, { isPartitionAssign: false, fromBeginning: true, topics: [{ name: topic }], webhook: { url: hook.url }, consumer: FAST_CONSUMER })

  // partition 0 is blocked on seq 0: its lag is all of its records; seq 1 (partition 1) is being retried
  const blocked = await waitFor('the lag gauge and a pending retry', async () => {
    const m = await metricsText(app)
    const lag0 = sample(m, 'gateway_consumer_lag', { group: groupId, topic, partition: '0' })
    return lag0 === N / 3 && sample(m, 'gateway_webhook_retries_pending', { group: groupId }) === 1 ? m : undefined
  }, 20_000)
  t.ok((sample(blocked, 'gateway_webhook_deliveries_total', { group: groupId, outcome: 'retried' }) ?? 0) >= 1, 'retries counted')
  t.ok((sample(blocked, 'gateway_webhook_responses_total', { group: groupId, status_class: '5xx' }) ?? 0) >= 1, '503s counted by status class')
  t.equal(sample(blocked, 'gateway_consumer_lag', { group: groupId, topic, partition: '1' }), N / 3, 'partition 1 is behind by all of its records too')
  release()

  await waitFor('every record delivered', () => new Set(hook.ok().map(h => (h.body.value as { seq: number }).seq)).size === N, 30_000)
  const done = await waitFor('the lag gauge to drop to 0 on every partition', async () => {
    const m = await metricsText(app)
    const lags = [0, 1, 2].map(p => sample(m, 'gateway_consumer_lag', { group: groupId, topic, partition: String(p) }))
    return lags.every(l => l === 0) ? m : undefined
  }, 15_000)
  t.equal(sample(done, 'gateway_webhook_deliveries_total', { group: groupId, outcome: 'delivered' }), N, 'delivered equals the records')
  t.equal(sample(done, 'gateway_webhook_deliveries_total', { group: groupId, outcome: 'dead-lettered' }) ?? 0, 0)
  t.equal(sample(done, 'gateway_webhook_responses_total', { group: groupId, status_class: '2xx' }), N, 'one 2xx per record')
  t.equal(sample(done, 'gateway_webhook_retries_pending', { group: groupId }), 0, 'no retry pending')
  t.equal(sample(done, 'gateway_webhook_responses_total', { group: groupId, status_class: '5xx' }), refused, 'every 503 counted')
  t.equal(sample(done, 'gateway_webhook_deliveries_total', { group: groupId, outcome: 'retried' }), refused, 'one retry per 503')
  t.equal(sample(done, 'gateway_webhook_delivery_latency_seconds_count', { group: groupId }), N, 'a fetch-to-2xx latency per record')
  t.ok((sample(done, 'gateway_webhook_delivery_latency_seconds_sum', { group: groupId }) ?? 0) > 0)
  t.equal(sample(done, 'gateway_produce_records_total', { topic }), N, 'nothing produced twice')
  const age = sample(done, 'gateway_registry_heartbeat_age_seconds')
  t.ok(age !== undefined && age >= 0 && age < 2, `registry heartbeat age ${String(age)} s (heartbeat 0.5 s)`)
})
