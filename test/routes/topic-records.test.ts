/**
 * GET /topics/{topic}/partitions/{p}/records (issue 12, item 2): what POST /messages produced comes back
 * in the very envelope a webhook delivery carries (the same bytes), pages by `nextOffset`, an offset past
 * the end answers no records, and the short-lived reader leaves no consumer group behind.
 */
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { uniqueName, waitFor } from '../helpers/build.js'
import { FAST_CONSUMER, createTopic, defineGroup, e2eGateway, postMessages } from '../e2e/helpers/gateway.js'
import { startHook } from '../e2e/helpers/hook.js'
import { READER_GROUP_PREFIX } from '../../src/topics/reader.js'

interface Page { records: Array<{ offset: string, value: unknown }>, nextOffset: string }

t.test('records read by offset are the webhook envelopes of what POST /messages produced', async t => {
  const app = await e2eGateway(t)
  const topic = await createTopic(app, 1, 'records')
  const hook = await startHook(t)
  await defineGroup(app, uniqueName('records'), { isPartitionAssign: false, fromBeginning: true, topics: [{ name: topic }], webhook: { url: hook.url }, consumer: FAST_CONSUMER })

  const binary = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0x80]), randomBytes(32)])
  const produced = await postMessages(app, topic, [
    { value: { id: 1, n: -0.5, nested: { list: [1, 'two', null] } }, key: 'order-1', headers: { 'x-trace': 't-1' } },
    { value: '123' },
    { value: binary.toString('base64'), valueEncoding: 'base64', key: Buffer.from([0x00, 0xff]).toString('base64'), keyEncoding: 'base64' },
    { value: null, key: 'order-1' },
    { value: 'ünïcødé ✓' }
  ], { requestId: 'req-records-test' })
  await waitFor('5 webhook deliveries', () => hook.ok().length === 5, 30_000)

  const res = await app.inject({ method: 'GET', url: `/topics/${topic}/partitions/0/records?offset=0&limit=10` })
  t.equal(res.statusCode, 200, res.body)
  t.match(res.headers['content-type'], /^application\/json/)
  const page = res.json() as Page
  t.equal(page.nextOffset, '5', 'the offset after the last record')
  t.same(page.records.map(r => r.offset), produced.map(p => p.offset), 'every record produced, in offset order')
  for (const hit of hook.ok()) {
    t.ok(res.body.includes(hit.raw), `offset ${hit.body.offset}: the webhook body appears verbatim in the answer`)
    t.same(page.records.find(r => r.offset === hit.body.offset), hit.body, `offset ${hit.body.offset}: the same envelope fields`)
  }

  const first = (await app.inject({ method: 'GET', url: `/topics/${topic}/partitions/0/records?limit=2` })).json() as Page
  t.same(first.records.map(r => r.offset), ['0', '1'], 'from the earliest offset by default, at most limit')
  t.equal(first.nextOffset, '2')
  const rest = (await app.inject({ method: 'GET', url: `/topics/${topic}/partitions/0/records?offset=${first.nextOffset}&limit=100` })).json() as Page
  t.same(rest.records.map(r => r.offset), ['2', '3', '4'], 'nextOffset pages on')
  t.equal(rest.nextOffset, '5')

  for (const offset of ['5', '999']) {
    const past = await app.inject({ method: 'GET', url: `/topics/${topic}/partitions/0/records?offset=${offset}` })
    t.equal(past.statusCode, 200)
    t.same(past.json(), { records: [], nextOffset: '5' }, `offset ${offset}: no records, the latest offset next`)
  }

  const admin = await app.kafka.connectedAdmin()
  const readers = (await admin.listGroups()).groups.filter(g => g.groupId.startsWith(`${READER_GROUP_PREFIX}${app.kafka.clientId}.`))
  t.same(readers, [], 'every reader group was left and deleted before its answer')
})

t.test('records: limit and offset are checked', async t => {
  const app = await e2eGateway(t)
  const topic = await createTopic(app, 1, 'records-limits')
  const cases: Array<[string, string]> = [['limit=0', 'querystring/limit'], ['limit=1001', 'querystring/limit'], ['offset=-1', 'querystring/offset'], ['offset=abc', 'querystring/offset'], ['from=1', 'querystring/from']]
  for (const [query, field] of cases) {
    const res = await app.inject({ method: 'GET', url: `/topics/${topic}/partitions/0/records?${query}` })
    t.equal(res.statusCode, 400, query)
    t.equal((res.json() as { details: Array<{ field: string }> }).details[0]?.field, field, `${query}: names ${field}`)
  }
  const empty = await app.inject({ method: 'GET', url: `/topics/${topic}/partitions/0/records` })
  t.same(empty.json(), { records: [], nextOffset: '0' }, 'an empty partition: no records, offset 0 next')
})
