/**
 * Dead letters, through the gateway: a record the webhook refuses with a non-retryable 4xx goes to
 * `<groupId>.dlq` after one attempt; a record whose retries run out (maxAttempts) goes to the configured
 * dead-letter topic. Both keep the original key, value and headers and carry every dlq-* header; the
 * records after them are delivered (the partition is not blocked) and the status counts them.
 */
import t, { type Test } from 'tap'
import type { KafkaMessage } from 'kafkajs'
import { uniqueName, waitFor } from '../helpers/build.js'
import { header, readTopic } from '../webhooks/fixtures/kafka.js'
import { FAST_CONSUMER, createTopic, defineGroup, e2eGateway, groupView, postMessages, type Produced } from './helpers/gateway.js'
import { startHook } from './helpers/hook.js'

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

function checkDeadLetter (t: Test, dl: KafkaMessage, want: { topic: string, produced: Produced, groupId: string, key: string, value: string, status: string, attempts: string, error: RegExp, requestId: string }): void {
  t.equal(dl.key?.toString('utf8'), want.key, 'original key')
  t.equal(dl.value?.toString('utf8'), want.value, 'original value bytes')
  t.equal(header(dl.headers, 'x-user'), 'kept', 'original user header')
  t.equal(header(dl.headers, 'content-type'), 'text/plain; charset=utf-8', 'original content-type')
  t.equal(header(dl.headers, 'x-request-id'), want.requestId, 'original x-request-id')
  t.equal(header(dl.headers, 'dlq-original-topic'), want.topic)
  t.equal(header(dl.headers, 'dlq-original-partition'), String(want.produced.partition))
  t.equal(header(dl.headers, 'dlq-original-offset'), want.produced.offset)
  t.match(header(dl.headers, 'dlq-original-timestamp'), /^\d{13}$/)
  t.equal(header(dl.headers, 'dlq-group-id'), want.groupId)
  t.equal(header(dl.headers, 'dlq-status'), want.status)
  t.match(header(dl.headers, 'dlq-error'), want.error)
  t.equal(header(dl.headers, 'dlq-attempts'), want.attempts)
  const first = header(dl.headers, 'dlq-first-attempt-at') ?? ''
  const last = header(dl.headers, 'dlq-last-attempt-at') ?? ''
  t.match(first, ISO)
  t.match(last, ISO)
  t.ok(Date.parse(first) <= Date.parse(last), 'first attempt not after the last')
}

t.test('4xx → <groupId>.dlq at once; exhausted retries → the configured DLQ; every dlq-* header; later records delivered', async t => {
  const app = await e2eGateway(t)
  const topic = await createTopic(app, 2, 'dlq-src')
  const refusing = uniqueName('refuse')
  const flaky = uniqueName('flaky')
  const flakyDlq = uniqueName('flaky-dead')

  const refuser = await startHook(t, (hit) => ({ status: hit.body.value === 'poison' ? 400 : 204 }))
  const unavailable = await startHook(t, (hit) => ({ status: hit.body.value === 'poison' ? 503 : 204 }))

  const messages = ['ok-0', 'ok-1', 'poison', 'ok-2', 'ok-3'].map(value => ({ value, key: `k-${value}`, headers: { 'x-user': 'kept' }, partitions: [1] }))
  const produced = await postMessages(app, topic, messages, { requestId: 'req-dlq-1' })
  const poison = produced[2] as Produced

  const common = { isPartitionAssign: false, fromBeginning: true, topics: [{ name: topic }], consumer: FAST_CONSUMER }
  await defineGroup(app, refusing, { ...common, webhook: { url: refuser.url } })
  await defineGroup(app, flaky, { ...common, webhook: { url: unavailable.url, maxAttempts: 3, deadLetterTopic: flakyDlq } })

  // the records after the dead letter are delivered
  const okValues = ['ok-0', 'ok-1', 'ok-2', 'ok-3']
  await waitFor('both groups deliver the good records', () =>
    okValues.every(v => refuser.ok().some(h => h.body.value === v) && unavailable.ok().some(h => h.body.value === v)), 30_000)
  t.equal(refuser.hits.filter(h => h.body.value === 'poison').length, 1, '400: one attempt, no retry')
  t.equal(unavailable.hits.filter(h => h.body.value === 'poison').length, 3, '503: maxAttempts (3) attempts')
  t.same(refuser.ok().map(h => h.body.value), okValues, 'delivered in order, the refused record skipped')

  const [refused] = await readTopic(app.kafka, `${refusing}.dlq`, 1)
  t.ok(refused !== undefined, `the refused record is on ${refusing}.dlq`)
  if (refused !== undefined) {
    checkDeadLetter(t, refused, { topic, produced: poison, groupId: refusing, key: 'k-poison', value: 'poison', status: '400', attempts: '1', error: /HTTP 400 Bad Request.*non-retryable status/, requestId: 'req-dlq-1' })
  }
  const [exhausted] = await readTopic(app.kafka, flakyDlq, 1)
  t.ok(exhausted !== undefined, `the exhausted record is on ${flakyDlq}`)
  if (exhausted !== undefined) {
    checkDeadLetter(t, exhausted, { topic, produced: poison, groupId: flaky, key: 'k-poison', value: 'poison', status: '503', attempts: '3', error: /HTTP 503 Service Unavailable.*maxAttempts 3/, requestId: 'req-dlq-1' })
  }

  // the visible state: dead-lettered and retried on partition 1, last status and error, nothing left behind
  const id = app.kafka.clientId
  const refusedView = await waitFor('the refusing group\'s status', async () => {
    const s = (await groupView(app, refusing)).instances[id]
    return s?.deadLettered === 1 && s.delivered === 4 && s.lag === 0 ? s : undefined
  }, 15_000)
  const p1 = refusedView.byPartition.find(p => p.partition === 1)
  t.match(p1, { assigned: true, delivered: 4, deadLettered: 1, retried: 0, inFlight: 0, lastStatus: 204, lag: 0, committedOffset: '5', highWatermark: '5' })
  t.match(p1?.lastError, new RegExp(`dead-lettered offset ${poison.offset}: HTTP 400`))
  t.match(refusedView.lastError, new RegExp(`dead-lettered ${topic}/1@${poison.offset}`))
  const flakyView = await waitFor('the flaky group\'s status', async () => {
    const s = (await groupView(app, flaky)).instances[id]
    return s?.deadLettered === 1 && s.delivered === 4 && s.lag === 0 ? s : undefined
  }, 15_000)
  t.match(flakyView.byPartition.find(p => p.partition === 1), { delivered: 4, deadLettered: 1, retried: 2 })
  t.equal(flakyView.retried, 2, 'two retries before giving up')
})
