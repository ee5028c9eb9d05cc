/**
 * Batch delivery (webhook `batchSize` > 1), through the gateway: each request carries `{ records: [...] }`
 * with up to batchSize consecutive records of one partition, signed like a single delivery; every record
 * arrives once and in partition order; counters and metrics count records; a refused batch is
 * dead-lettered whole and the partition goes on; with maxBatchWaitMs a partial batch waits that long for
 * more records, and no longer.
 */
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { uniqueName, waitFor } from '../helpers/build.js'
import { generateSecret } from '../../src/webhooks/signing.js'
import { header, readTopic } from '../webhooks/fixtures/kafka.js'
import { FAST_CONSUMER, createTopic, defineGroup, e2eGateway, groupView, metricsText, postMessages, sample } from './helpers/gateway.js'
import { one, startHook, type Envelope, type Hit } from './helpers/hook.js'

/** The records of a batch request (its raw body parsed). */
function recordsOf (hit: Hit): Envelope[] {
  const body = JSON.parse(hit.raw) as { records?: unknown }
  if (!Array.isArray(body.records)) throw new Error(`not a batch body: ${hit.raw.slice(0, 200)}`)
  return body.records as Envelope[]
}

t.test('batches of up to batchSize records: signed, once each, in partition order, counted per record', async t => {
  const app = await e2eGateway(t)
  const topic = await createTopic(app, 2, 'batch')
  const groupId = uniqueName('batch')
  const secret = generateSecret()
  const hook = await startHook(t)
  // produced before the group exists, so fetches return many records at once
  const values = { 0: Array.from({ length: 230 }, (_v, i) => `p0-${i}`), 1: Array.from({ length: 40 }, (_v, i) => `p1-${i}`) }
  await postMessages(app, topic, [...values[0].map(value => ({ value, partitions: [0] })), ...values[1].map(value => ({ value, partitions: [1] }))])
  await defineGroup(app, groupId, {
    isPartitionAssign: false,
    fromBeginning: true,
    topics: [{ name: topic }],
    webhook: { url: hook.url, secrets: [secret], batchSize: 50 },
    consumer: FAST_CONSUMER
  })
  const delivered = (): Envelope[] => hook.ok().flatMap(recordsOf)
  await waitFor('all 270 records delivered', () => delivered().length >= 270, 60_000)

  const sizes = hook.ok().map(h => recordsOf(h).length)
  t.ok(sizes.every(n => n >= 1 && n <= 50), `every request carries 1-50 records (${sizes.join(', ')})`)
  t.ok(sizes.some(n => n > 1), 'records were batched')
  let checked = 0
  for (const hit of hook.ok()) {
    const records = recordsOf(hit)
    const partitions = new Set(records.map(r => r.partition))
    const offsets = records.map(r => Number(r.offset))
    if (partitions.size !== 1 || offsets.some((o, i) => i > 0 && o !== (offsets[i - 1] as number) + 1)) {
      t.fail(`a request mixes partitions or skips offsets: ${JSON.stringify(records.map(r => `${r.partition}@${r.offset}`))}`)
    }
    new Webhook(secret).verify(hit.raw, {
      'webhook-id': one(hit.headers, 'webhook-id') ?? '',
      'webhook-timestamp': one(hit.headers, 'webhook-timestamp') ?? '',
      'webhook-signature': one(hit.headers, 'webhook-signature') ?? ''
    }) // throws unless the signature is valid
    checked++
  }
  t.equal(checked, hook.ok().length, 'every request: one partition, consecutive offsets, a valid Standard Webhooks signature')
  const ids = hook.ok().map(h => one(h.headers, 'webhook-id'))
  t.equal(new Set(ids).size, ids.length, 'one webhook-id per request')
  for (const p of [0, 1] as const) {
    t.same(delivered().filter(r => r.partition === p).map(r => r.value), values[p], `partition ${p}: each record once, in order`)
  }

  const status = await waitFor('the status to count every record', async () => {
    const s = (await groupView(app, groupId)).instances[app.kafka.clientId]
    return s?.delivered === 270 ? s : undefined
  }, 10_000)
  t.equal(status.inFlight, 0)
  t.equal(sample(await metricsText(app), 'gateway_webhook_deliveries_total', { group: groupId, outcome: 'delivered' }), 270, 'the metric counts records, not requests')
  t.equal(sample(await metricsText(app), 'gateway_webhook_responses_total', { group: groupId }), sizes.length, 'one response per request')
})

t.test('a batch refused with 422 is dead-lettered whole; the records after it are delivered', async t => {
  const app = await e2eGateway(t)
  const topic = await createTopic(app, 1, 'batch-dlq')
  const groupId = uniqueName('batch-dlq')
  const hook = await startHook(t, hit => ({ status: recordsOf(hit).some(r => r.value === 'poison') ? 422 : 204 }))
  const values = Array.from({ length: 25 }, (_v, i) => (i === 12 ? 'poison' : `v${i}`))
  await postMessages(app, topic, values.map(value => ({ value })))
  await defineGroup(app, groupId, {
    isPartitionAssign: false,
    fromBeginning: true,
    topics: [{ name: topic }],
    webhook: { url: hook.url, batchSize: 10 },
    consumer: FAST_CONSUMER
  })
  await waitFor('every record delivered or refused', () => hook.hits.filter(h => h.status !== undefined).flatMap(recordsOf).length >= 25, 60_000)
  const refused = hook.hits.filter(h => h.status === 422)
  t.equal(refused.length, 1, 'one request refused, once (422 is not retried)')
  const refusedValues = recordsOf(refused[0] as Hit).map(r => r.value)
  t.ok(refusedValues.includes('poison'), `the refused batch: ${JSON.stringify(refusedValues)}`)
  t.same(hook.ok().flatMap(recordsOf).map(r => r.value), values.filter(v => !refusedValues.includes(v)), 'every other record delivered once, in order')

  const dead = await readTopic(app.kafka, `${groupId}.dlq`, refusedValues.length)
  t.same(dead.map(m => m.value?.toString('utf8')), refusedValues, 'the whole batch is in the dead-letter topic, in order')
  t.ok(dead.every(m => header(m.headers, 'dlq-status') === '422' && header(m.headers, 'dlq-group-id') === groupId), 'each with the dlq headers')
  const status = await waitFor('the status to count dead letters per record', async () => {
    const s = (await groupView(app, groupId)).instances[app.kafka.clientId]
    return s !== undefined && s.delivered + s.deadLettered === 25 ? s : undefined
  }, 10_000)
  t.equal(status.deadLettered, refusedValues.length)
})

t.test('maxBatchWaitMs: a small burst waits that long for more records, then goes without batchSize records', async t => {
  const WAIT_MS = 1500
  const app = await e2eGateway(t)
  const topic = await createTopic(app, 1, 'batch-wait')
  const groupId = uniqueName('batch-wait')
  const hook = await startHook(t)
  await defineGroup(app, groupId, {
    isPartitionAssign: false,
    fromBeginning: true,
    topics: [{ name: topic }],
    webhook: { url: hook.url, batchSize: 100, maxBatchWaitMs: WAIT_MS },
    consumer: FAST_CONSUMER
  })
  const view = (await app.inject({ method: 'GET', url: `/consumer-groups/${groupId}` })).json() as { declarations: Array<{ webhook: { maxBatchWaitMs?: number } }> }
  t.equal(view.declarations[0]?.webhook.maxBatchWaitMs, WAIT_MS, 'the view shows it')
  await waitFor('the group to hold its partition', async () => (await groupView(app, groupId)).instances[app.kafka.clientId]?.partitions[topic]?.length === 1, 30_000)

  // two bursts, far less than batchSize, the second while the first waits
  const ackedAt = Date.now()
  await postMessages(app, topic, ['a', 'b', 'c'].map(value => ({ value })))
  await postMessages(app, topic, ['d', 'e'].map(value => ({ value })))
  await waitFor('the burst delivered', () => hook.ok().length > 0, 20_000)
  const first = hook.ok()[0] as Hit
  t.same(recordsOf(first).map(r => r.value), ['a', 'b', 'c', 'd', 'e'], 'one request with both bursts, in order')
  t.ok(first.at - ackedAt >= WAIT_MS - 50, `held for maxBatchWaitMs first (${first.at - ackedAt} ms after the first burst was written)`)

  // a later single record goes within the bound too
  const sentAt = Date.now()
  await postMessages(app, topic, [{ value: 'f' }])
  await waitFor('the single record delivered', () => hook.ok().length > 1, 20_000)
  const second = hook.ok()[1] as Hit
  t.same(recordsOf(second).map(r => r.value), ['f'])
  t.ok(second.at - sentAt < WAIT_MS + 5000, `not held for batchSize records (${second.at - sentAt} ms)`)
})
