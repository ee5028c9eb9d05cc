/**
 * Pull consumers on one gateway (issue 13, item 1): records come in offset order per partition, each once,
 * in the webhook envelope; commits cover what was polled; seeks move positions; Confluent's paths,
 * content types and record shapes work; instances show in the registry and the group view; idle
 * instances are closed and removed.
 */
import t from 'tap'
import { uniqueName, waitFor } from '../helpers/build.js'
import { createTopic, e2eGateway, postMessages, registryKey } from '../e2e/helpers/gateway.js'
import { FAST_CONSUMER } from '../consumers/helpers/kafka.js'
import { createSubscribed, injectCall, pollOnce, type PolledRecord } from './helpers.js'

t.test('poll, commit, seek and delete through the native API', async t => {
  const app = await e2eGateway(t, { registryKey: registryKey(t) })
  const call = injectCall(app)
  const topic = await createTopic(app, 2, 'pull')
  const groupId = uniqueName('pull')
  await postMessages(app, topic, Array.from({ length: 40 }, (_v, i) => ({ value: { i }, partitions: [i % 2] })))
  const url = await createSubscribed(call, groupId, [topic], { maxPollRecords: 7 })

  const got: PolledRecord[] = []
  await waitFor('40 records polled', async () => {
    const batch = await pollOnce(call, url)
    t.ok(batch.length <= 7, 'never more than maxPollRecords')
    got.push(...batch)
    return got.length >= 40
  }, 60_000, 0)
  t.equal(got.length, 40, 'each record exactly once')
  for (const p of [0, 1]) {
    const offsets = got.filter(r => r.partition === p).map(r => Number(r.offset))
    t.same(offsets, [...offsets].sort((a, b) => a - b), `partition ${p} in offset order`)
  }
  t.same(got.map(r => (r.value as { i: number }).i).sort((a, b) => a - b), Array.from({ length: 40 }, (_v, i) => i), 'the values, as JSON envelopes')

  const commit = await call('POST', `${url}/offsets`)
  t.equal(commit.statusCode, 200, commit.body)
  t.same((commit.json() as { offsets: unknown[] }).offsets.length, 2, 'committed the offset after the last polled record of both partitions')
  const committed = await call('GET', `${url}/offsets`)
  t.same((committed.json() as { offsets: Array<{ partition: number, offset: string }> }).offsets.sort((a, b) => a.partition - b.partition).map(o => o.offset), ['20', '20'])

  const sub = await call('GET', `${url}/subscription`)
  t.same((sub.json() as { topics: string[] }).topics, [topic])

  const seek = await call('POST', `${url}/positions`, { offsets: [{ topic, partition: 0, offset: 18 }] })
  t.equal(seek.statusCode, 204, seek.body)
  const again: PolledRecord[] = []
  await waitFor('the 2 records after the seek', async () => { again.push(...await pollOnce(call, url)); return again.length >= 2 }, 30_000, 0)
  t.same(again.map(r => [r.partition, r.offset]), [[0, '18'], [0, '19']], 'partition 0 again from offset 18')

  const group = await call('GET', `/consumer-groups/${groupId}`)
  t.equal(group.statusCode, 200, group.body)
  t.match(group.json(), { groupId, declarations: [], pullInstances: [{ owner: app.kafka.clientId, topics: [topic] }] }, 'the group view lists the instance')
  await waitFor('the registry shows the pull consumer', async () => {
    const reg = (await call('GET', `/consumers?groupId=${groupId}`)).json() as Record<string, Record<string, { partitions: number[] }>>
    return reg[app.kafka.clientId]?.[topic]?.partitions.length === 2
  }, 20_000)

  const del = await call('DELETE', url)
  t.equal(del.statusCode, 204, del.body)
  t.equal((await call('GET', `${url}/records`)).statusCode, 404, 'a deleted instance is gone')
  await waitFor('the registry entry is gone', async () => {
    const reg = (await call('GET', `/consumers?groupId=${groupId}`)).json() as Record<string, unknown>
    return reg[app.kafka.clientId] === undefined
  }, 20_000)
})

t.test('Confluent v2 paths, content types and record shapes', async t => {
  const app = await e2eGateway(t, { registryKey: registryKey(t) })
  const call = injectCall(app)
  const topic = await createTopic(app, 1, 'pull-cf')
  const groupId = uniqueName('pull-cf')
  await postMessages(app, topic, [{ value: '{"n":12345678901234567890}', valueEncoding: 'text', key: 'k1' }, { value: 'plain text', valueEncoding: 'text' }])
  const v2 = { 'content-type': 'application/vnd.kafka.v2+json' }
  const created = await call('POST', `/consumers/${groupId}`, { name: 'c1', format: 'json', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false', consumer: FAST_CONSUMER }, v2)
  t.equal(created.statusCode, 200, created.body)
  t.match(created.json(), { instance_id: 'c1', base_uri: new RegExp(`/consumers/${groupId}/instances/c1$`) })
  const base = `/consumers/${groupId}/instances/c1`
  t.equal((await call('POST', `${base}/subscription`, { topics: [topic] }, v2)).statusCode, 204)

  let records: Array<{ key: unknown, value: unknown, offset: number }> = []
  let raw = ''
  await waitFor('both records in Confluent\'s json shape', async () => {
    const res = await call('GET', `${base}/records?timeout=2000`, undefined, { accept: 'application/vnd.kafka.json.v2+json' })
    if (res.statusCode !== 200) throw new Error(res.body)
    t.match(res.headers['content-type'], /application\/vnd\.kafka\.json\.v2\+json/)
    raw += res.body
    records = records.concat(res.json() as typeof records)
    return records.length >= 2
  }, 30_000, 0)
  t.match(records, [{ key: 'k1', offset: 0 }, { key: null, value: 'plain text', offset: 1 }])
  t.ok(raw.includes('12345678901234567890'), 'a JSON value keeps every digit')

  t.equal((await call('POST', `${base}/positions/beginning`, { partitions: [{ topic, partition: 0 }] }, v2)).statusCode, 204)
  const binary: Array<{ key: string | null, value: string }> = []
  await waitFor('the records again, base64', async () => {
    const res = await call('GET', `${base}/records?timeout=2000`, undefined, { accept: 'application/vnd.kafka.binary.v2+json' })
    binary.push(...res.json() as typeof binary)
    return binary.length >= 2
  }, 30_000, 0)
  t.equal(Buffer.from(binary[0]?.key ?? '', 'base64').toString(), 'k1')
  t.equal(Buffer.from(binary[1]?.value ?? '', 'base64').toString(), 'plain text')

  // Confluent's meaning: the offset of the last record processed; the one after it is committed
  const commit = await call('POST', `${base}/offsets`, { offsets: [{ topic, partition: 0, offset: 1 }] }, v2)
  t.equal(commit.statusCode, 200, commit.body)
  t.same((await call('GET', `${base}/offsets`)).json(), { offsets: [{ topic, partition: 0, offset: '2' }] }, 'committed 1 + 1: both records done')
  t.equal((await call('POST', `${base}/positions/end`, undefined, v2)).statusCode, 204, 'no body: every partition held')
  t.equal((await call('DELETE', base, undefined, v2)).statusCode, 204)
})

t.test('a seek right after subscribing, before the group is joined, applies', async t => {
  const app = await e2eGateway(t, { registryKey: registryKey(t) })
  const call = injectCall(app)
  const topic = await createTopic(app, 1, 'pull-early-seek')
  await postMessages(app, topic, Array.from({ length: 10 }, (_v, i) => ({ value: { i } })))
  const url = await createSubscribed(call, uniqueName('pull-early-seek'), [topic])
  const seek = await call('POST', `${url}/positions`, { offsets: [{ topic, partition: 0, offset: 6 }] })
  t.equal(seek.statusCode, 204, seek.body)
  const got: PolledRecord[] = []
  await waitFor('the 4 records from offset 6', async () => { got.push(...await pollOnce(call, url)); return got.length >= 4 }, 30_000, 0)
  t.same(got.map(r => r.offset), ['6', '7', '8', '9'], 'the first poll starts at the offset sought')
})

t.test('an idle instance is closed and removed after instanceTimeoutMs', async t => {
  const app = await e2eGateway(t, { registryKey: registryKey(t) })
  const call = injectCall(app)
  const topic = await createTopic(app, 1, 'pull-idle')
  const groupId = uniqueName('pull-idle')
  const url = await createSubscribed(call, groupId, [topic], { instanceTimeoutMs: 1500 })
  t.equal((await call('GET', `${url}/records?timeoutMs=0`)).statusCode, 200)
  await waitFor('the idle instance is gone', async () => (await call('GET', `/consumer-groups/${groupId}`)).statusCode === 404, 20_000, 200)
  t.equal(app.pull.parts().length, 0, 'its consumer is closed')
})
