/**
 * GET /topics/{topic}/events (issue 13, item 3) with the real `eventsource` client: produced records arrive
 * as webhook envelopes, a client resuming with Last-Event-ID misses nothing and sees nothing twice, the
 * heartbeat comment is written, a closed stream (client gone, gateway shutdown) leaves no consumer group,
 * and bad requests are JSON errors naming the field.
 */
import t from 'tap'
import kafkajs from 'kafkajs'
import { waitFor } from '../helpers/build.js'
import { createTopic, e2eGateway, metricsText, postMessages, sample } from '../e2e/helpers/gateway.js'
import { EVENTS_GROUP_PREFIX } from '../../src/sse/topic-stream.js'
import { listening, openStream, rawStream } from './helpers/streams.js'

const streamGroups = async (admin: kafkajs.Admin, clientId: string): Promise<string[]> =>
  (await admin.listGroups()).groups.map(g => g.groupId).filter(g => g.startsWith(`${EVENTS_GROUP_PREFIX}${clientId}.`))

const values = (prefix: string, n: number, partitions: number): Array<{ value: string, partitions: number[] }> =>
  Array.from({ length: n }, (_v, i) => ({ value: `${prefix}-${i}`, partitions: [i % partitions] }))

t.test('records arrive as webhook envelopes; closing the stream deletes its group', async t => {
  const app = await e2eGateway(t)
  const base = await listening(app)
  const topic = await createTopic(app, 2, 'sse')
  const before = await postMessages(app, topic, [{ value: { id: 1, list: [1, 'two', null] }, key: 'k-1', partitions: [0] }])
  const client = openStream(t, `${base}/topics/${topic}/events?from=earliest`)
  await waitFor('the starting position', () => client.positions.length === 1)
  t.equal(client.positions[0]?.cursor, '0/0,1/0', 'from=earliest: every partition at its earliest offset')
  await waitFor('the record produced before the stream', () => client.records.length === 1)
  const live = await postMessages(app, topic, values('live', 4, 2))
  await waitFor('the records produced while streaming', () => client.records.length === 5)

  const first = client.records[0]
  t.same(first?.envelope, { topic, partition: 0, offset: before[0]?.offset, timestamp: first?.envelope.timestamp, key: 'k-1', keyEncoding: 'utf8', value: { id: 1, list: [1, 'two', null] }, valueEncoding: 'json', contentType: 'application/json', headers: first?.envelope.headers }, 'the webhook envelope')
  const read = await app.inject({ method: 'GET', url: `/topics/${topic}/partitions/0/records?offset=0&limit=1` })
  t.ok(first !== undefined && read.body.includes(first.raw), 'the event data is the very body GET …/records (and a webhook) gets')
  t.same(client.records.slice(1).map(r => r.envelope.value).sort(), live.map((_l, i) => `live-${i}`).sort(), 'every live record once')
  for (const p of [0, 1]) {
    const offsets = client.records.filter(r => r.envelope.partition === p).map(r => Number(r.envelope.offset))
    t.same(offsets, [...offsets].sort((a, b) => a - b), `partition ${p}: offset order`)
  }
  t.equal(client.lastEventId(), '0/3,1/2', 'the id is the cursor of every partition: the next offset of each')
  t.equal(sample(await metricsText(app), 'gateway_sse_streams', { kind: 'topic' }), 1, 'the gauge counts the open stream')

  const admin = await app.kafka.connectedAdmin()
  t.equal((await streamGroups(admin, app.kafka.clientId)).length, 1, 'the stream reads through its own group')
  client.close()
  await waitFor('the stream group deleted', async () => (await streamGroups(admin, app.kafka.clientId)).length === 0)
  await waitFor('the gauge back to 0', async () => sample(await metricsText(app), 'gateway_sse_streams', { kind: 'topic' }) === 0)
})

t.test('resuming with Last-Event-ID: nothing lost, nothing repeated, per partition', async t => {
  const app = await e2eGateway(t)
  const base = await listening(app)
  const topic = await createTopic(app, 3, 'sse-resume')
  const url = `${base}/topics/${topic}/events`
  const first = openStream(t, url, { closeAfter: 4 })
  await waitFor('the first stream started', () => first.positions.length === 1)
  await postMessages(app, topic, values('a', 9, 3))
  await waitFor('4 records, then the client leaves', () => first.records.length === 4)
  // produced while no client is connected
  await postMessages(app, topic, values('b', 6, 3))

  const second = openStream(t, url, { lastEventId: first.lastEventId() })
  await waitFor('the other 11 records', () => second.records.length >= 11)
  const seen = [...first.records, ...second.records].map(r => `${r.envelope.partition}/${r.envelope.offset}`)
  t.equal(new Set(seen).size, seen.length, 'no record twice')
  t.equal(seen.length, 15, 'every record once')
  t.same(second.positions[0]?.cursor, first.lastEventId(), 'the second stream starts exactly at the cursor sent')

  const third = openStream(t, `${url}?partitions=2&lastEventId=${encodeURIComponent(second.lastEventId())}`)
  await waitFor('the third stream started', () => third.positions.length === 1)
  t.equal(third.positions[0]?.cursor, '2/5', 'partitions=2: only partition 2, resumed from the lastEventId query')
  await postMessages(app, topic, values('c', 3, 3))
  await waitFor('partition 2\'s new record', () => third.records.length === 1)
  t.same(third.records.map(r => [r.envelope.partition, r.envelope.offset, r.envelope.value]), [[2, '5', 'c-2']])
})

t.test('heartbeat comments; 503 beyond SSE_MAX_STREAMS; shutdown ends streams and deletes their groups', async t => {
  const app = await e2eGateway(t, { env: { SSE_HEARTBEAT_MS: '200', SSE_MAX_STREAMS: '1' } })
  const base = await listening(app)
  const topic = await createTopic(app, 1, 'sse-ping')
  const raw = await rawStream(t, `${base}/topics/${topic}/events`)
  t.equal(raw.res.statusCode, 200)
  t.match(raw.res.headers['content-type'], /^text\/event-stream/)
  await waitFor('a heartbeat comment', () => raw.text().includes('\n: ping\n\n'))
  t.match(raw.text(), /^retry: \d+\n\nid: 0\/0\nevent: position\ndata: \{"topic":"[^"]+","cursor":"0\/0"\}\n\n/, 'retry, then the starting position')

  const refused = await fetch(`${base}/topics/${topic}/events`)
  t.equal(refused.status, 503, 'a second stream is over SSE_MAX_STREAMS=1')
  t.equal(((await refused.json()) as { code: string }).code, 'GW_OVERLOADED')
  t.ok(refused.headers.get('retry-after'), 'with Retry-After')

  const kafka = new kafkajs.Kafka({ brokers: (process.env.KAFKA_BROKERS ?? '').split(','), logLevel: kafkajs.logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  const clientId = app.kafka.clientId
  await waitFor('the stream group exists', async () => (await streamGroups(admin, clientId)).length === 1)
  const ended = new Promise<void>(resolve => raw.res.on('end', resolve))
  await app.close()
  await ended
  t.pass('app.close() ended the open stream')
  t.same(await streamGroups(admin, clientId), [], 'and deleted its group before Kafka disconnected')
})

t.test('bad requests: JSON errors naming the field', async t => {
  const app = await e2eGateway(t)
  const topic = await createTopic(app, 2, 'sse-bad')
  const cases: Array<[string, Record<string, string>, number, string]> = [
    ['from=oldest', {}, 400, 'querystring/from'],
    ['partitions=a,1', {}, 400, 'querystring/partitions'],
    ['partitions=7', {}, 400, 'querystring/partitions'],
    ['lastEventId=0-5', {}, 400, 'querystring/lastEventId'],
    ['', { 'last-event-id': '0/1,0/2' }, 400, 'header/last-event-id'],
    ['', { 'last-event-id': '9/1' }, 400, 'header/last-event-id'],
    ['since=1', {}, 400, 'querystring/since']
  ]
  for (const [query, headers, status, field] of cases) {
    const res = await app.inject({ method: 'GET', url: `/topics/${topic}/events?${query}`, headers })
    t.equal(res.statusCode, status, `${query} ${JSON.stringify(headers)}`)
    t.match(res.headers['content-type'], /^application\/json/)
    t.equal((res.json() as { details: Array<{ field: string }> }).details[0]?.field, field, `names ${field}`)
  }
  const missing = await app.inject({ method: 'GET', url: '/topics/no-such-topic-sse/events' })
  t.equal(missing.statusCode, 404)
  t.equal((missing.json() as { code: string }).code, 'GW_TOPIC_NOT_FOUND')
  const badName = await app.inject({ method: 'GET', url: '/topics/bad..name!/events' })
  t.equal(badName.statusCode, 400, 'an invalid topic name')
})
