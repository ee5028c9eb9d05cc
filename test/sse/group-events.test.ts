/**
 * GET /consumer-groups/{groupId}/events (issue 13, item 3): a committed group stream commits what it wrote,
 * so the group's next stream goes on after it; the group outlives the stream; webhook groups, the gateway's
 * own prefixes, unknown topics and missing parameters are refused as JSON.
 */
import t from 'tap'
import { uniqueName, waitFor } from '../helpers/build.js'
import { FAST_CONSUMER, createTopic, defineGroup, e2eGateway, postMessages } from '../e2e/helpers/gateway.js'
import { startHook } from '../e2e/helpers/hook.js'
import { listening, openStream } from './helpers/streams.js'

t.test('a group stream commits what it wrote; the next stream of the group goes on from there', async t => {
  const app = await e2eGateway(t)
  const base = await listening(app)
  const topicA = await createTopic(app, 2, 'sse-group-a')
  const topicB = await createTopic(app, 1, 'sse-group-b')
  await postMessages(app, topicA, [{ value: 'a-0', partitions: [0] }, { value: 'a-1', partitions: [1] }])
  await postMessages(app, topicB, [{ value: 'b-0' }])
  const groupId = uniqueName('sse-group')
  const url = `${base}/consumer-groups/${groupId}/events?topics=${topicA},${topicB}&from=earliest`
  const first = openStream(t, url)
  await waitFor('the 3 records of both topics', () => first.records.length === 3)
  t.same(first.records.map(r => r.envelope.value).sort(), ['a-0', 'a-1', 'b-0'])
  t.ok(first.records.every(r => r.id === `${r.envelope.topic}/${r.envelope.partition}/${Number(r.envelope.offset) + 1}`), 'id: <topic>/<partition>/<next offset>')

  const admin = await app.kafka.connectedAdmin()
  const committed = async (): Promise<string[]> => (await admin.fetchOffsets({ groupId, topics: [topicA, topicB] }))
    .flatMap(t => t.partitions.map(p => `${t.topic}/${p.partition}/${p.offset}`)).sort()
  await waitFor('the written offsets committed', async () => (await committed()).every(c => c.endsWith('/1')))
  first.close()
  await waitFor('the member left; the group stays', async () => (await admin.describeGroups([groupId])).groups[0]?.state === 'Empty')

  await postMessages(app, topicA, [{ value: 'a-2', partitions: [0] }])
  const second = openStream(t, url)
  await waitFor('the record produced after the first stream', () => second.records.length === 1)
  t.same(second.records.map(r => [r.envelope.topic, r.envelope.offset, r.envelope.value]), [[topicA, '1', 'a-2']], 'only what the group had not written yet')
})

t.test('group streams refuse webhook groups, reserved ids, unknown topics and missing parameters', async t => {
  const app = await e2eGateway(t)
  const topic = await createTopic(app, 1, 'sse-group-bad')
  const hook = await startHook(t)
  const webhookGroup = uniqueName('sse-webhook')
  await defineGroup(app, webhookGroup, { isPartitionAssign: false, topics: [{ name: topic }], webhook: { url: hook.url }, consumer: FAST_CONSUMER })
  const cases: Array<[string, number, string, string]> = [
    [`/consumer-groups/${webhookGroup}/events?topics=${topic}`, 409, 'GW_CONFLICT', 'params/groupId'],
    [`/consumer-groups/kafka-http-gateway.events.x/events?topics=${topic}`, 400, 'GW_VALIDATION', 'params/groupId'],
    [`/consumer-groups/${uniqueName('g')}/events?topics=${topic},no-such-topic-sse`, 404, 'GW_TOPIC_NOT_FOUND', 'querystring/topics'],
    [`/consumer-groups/${uniqueName('g')}/events?topics=${topic},,x`, 400, 'GW_VALIDATION', 'querystring/topics'],
    [`/consumer-groups/${uniqueName('g')}/events`, 400, 'GW_VALIDATION', 'querystring/topics'],
    [`/consumer-groups/${uniqueName('g')}/events?topics=${topic}&from=never`, 400, 'GW_VALIDATION', 'querystring/from']
  ]
  for (const [url, status, code, field] of cases) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, status, url)
    const body = res.json() as { code: string, details: Array<{ field: string }> }
    t.equal(body.code, code, `${url}: ${code}`)
    t.equal(body.details[0]?.field, field, `${url}: names ${field}`)
  }
})

t.test('API keys: streams need the consume scope, and a topic-limited key only its topics', async t => {
  const app = await e2eGateway(t, { env: { API_KEYS: 'reader:consume:sse-allowed-*;writer:produce' } })
  const asKey = async (key: string, url: string): Promise<{ status: number, field: string | undefined }> => {
    const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } })
    return { status: res.statusCode, field: (res.json() as { details?: Array<{ field?: string }> }).details?.[0]?.field }
  }
  const group = uniqueName('sse-scoped')
  t.same(await asKey('reader', `/consumer-groups/${group}/events?topics=sse-allowed-a,sse-other-b`), { status: 403, field: 'querystring/topics' }, 'a topic outside the key\'s globs')
  t.same(await asKey('writer', `/consumer-groups/${group}/events?topics=sse-allowed-a`), { status: 403, field: 'header/authorization' }, 'a produce-only key: the missing scope')
  t.same(await asKey('reader', '/topics/sse-other-c/events'), { status: 403, field: 'params/topic' }, 'the topic stream checks the path topic')
})
