import t from 'tap'
import { randomBytes } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import kafkajs from 'kafkajs'
import { build, uniqueName } from '../helpers/build.js'
import { bodyHash } from '../../src/produce/idempotency.js'
import { registryKeys } from '../../src/registry/keys.js'
import { at, createTopic, readRecords, recordCount } from '../produce/helpers.js'

const { Partitioners } = kafkajs

const post = (app: FastifyInstance, payload: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
  app.inject({ method: 'POST', url: '/messages', payload: payload as object, headers })

t.test('topic naming rules: 400 naming the rule; a legal unknown topic is 404', async t => {
  const app = await build(t)
  const cases: Array<[string, RegExp]> = [
    ['', /must not be empty/],
    ['.', /must not be "\." or "\.\."/],
    ['..', /must not be "\." or "\.\."/],
    ['a'.repeat(250), /at most 249 characters/],
    ['has space', /only ASCII letters, digits/],
    ['ümlaut', /only ASCII letters, digits/],
    ['slash/topic', /only ASCII letters, digits/]
  ]
  for (const [topic, rule] of cases) {
    const res = await post(app, { topic, value: 'x' })
    t.equal(res.statusCode, 400, JSON.stringify(topic))
    t.match(res.json(), { code: 'GW_VALIDATION', message: rule, details: [{ field: 'body/topic', rule: 'topicName' }] })
  }
  const longest = `${uniqueName('n')}-${'a'.repeat(200)}`.slice(0, 249)
  const missing = await post(app, { topic: longest, value: 'x' })
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { code: 'GW_TOPIC_NOT_FOUND', details: [{ field: 'body/topic', rule: 'topicExists' }] })
  t.match(missing.json().message, 'AUTO_CREATE_TOPICS')
})

t.test('values are written byte-exact with a content-type; tombstones have neither value nor content-type', async t => {
  const app = await build(t)
  const topic = uniqueName('values')
  await createTopic(app, topic, 1)
  const binary = Buffer.concat([Buffer.from([0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28]), randomBytes(250)]) // not UTF-8
  const cases: Array<{ body: Record<string, unknown>, bytes: Buffer | null, contentType: string | undefined }> = [
    { body: { value: { a: 1, nested: { b: [1, 'two', null] } } }, bytes: Buffer.from('{"a":1,"nested":{"b":[1,"two",null]}}'), contentType: 'application/json' },
    { body: { value: [1, 2, 3] }, bytes: Buffer.from('[1,2,3]'), contentType: 'application/json' },
    { body: { value: 123 }, bytes: Buffer.from('123'), contentType: 'application/json' },
    { body: { value: false }, bytes: Buffer.from('false'), contentType: 'application/json' },
    { body: { value: '123' }, bytes: Buffer.from('123'), contentType: 'text/plain; charset=utf-8' },
    { body: { value: 'héllo wörld ✓ 🎉' }, bytes: Buffer.from('héllo wörld ✓ 🎉', 'utf8'), contentType: 'text/plain; charset=utf-8' },
    { body: { value: '', valueEncoding: 'text' }, bytes: Buffer.alloc(0), contentType: 'text/plain; charset=utf-8' },
    { body: { value: 'quoted', valueEncoding: 'json' }, bytes: Buffer.from('"quoted"'), contentType: 'application/json' },
    { body: { value: binary.toString('base64'), valueEncoding: 'base64' }, bytes: binary, contentType: 'application/octet-stream' },
    { body: { value: binary.toString('base64url'), valueEncoding: 'base64' }, bytes: binary, contentType: 'application/octet-stream' },
    { body: { key: 'gone', value: null }, bytes: null, contentType: undefined }
  ]
  const offsets: string[] = []
  for (const c of cases) {
    const res = await post(app, { topic, ...c.body })
    t.equal(res.statusCode, 200, JSON.stringify(c.body).slice(0, 80))
    offsets.push(res.json().results[0].offset)
  }
  const records = await readRecords(t, app, topic, cases.length)
  cases.forEach((c, i) => {
    const r = at(records, 0, offsets[i] as string)
    if (c.bytes === null) t.equal(r.value, null, 'tombstone has no value')
    else t.ok(r.value?.equals(c.bytes), `value ${i} byte-exact`)
    t.equal(r.headers['content-type'], c.contentType, `content-type ${i}`)
  })
  t.equal(at(records, 0, offsets[10] as string).key?.toString(), 'gone', 'tombstone keeps its key')
})

t.test('headers round trip: user headers, departure, x-request-id; keys as text and as base64 bytes', async t => {
  const app = await build(t)
  const topic = uniqueName('headers')
  await createTopic(app, topic, 1)
  const keyBytes = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00])
  const res = await post(app, { topic, key: keyBytes.toString('base64'), keyEncoding: 'base64', value: { x: 1 }, headers: { 'trace-id': 'abc', tenant: 'ünïcode', empty: '' } },
    { 'x-request-id': 'req-produce-test-1' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['x-request-id'], 'req-produce-test-1')
  const generated = await post(app, { topic, key: 'text-key', value: 'v' })
  t.equal(generated.statusCode, 200)
  const [a, b] = (await readRecords(t, app, topic, 2)).sort((x, y) => Number(x.offset) - Number(y.offset))
  t.same(a?.headers, {
    'trace-id': 'abc',
    tenant: 'ünïcode',
    empty: '',
    'content-type': 'application/json',
    'key-encoding': 'binary',
    departure: app.kafka.clientId,
    'x-request-id': 'req-produce-test-1'
  })
  t.ok(a?.key?.equals(keyBytes), 'base64 key written as its bytes')
  t.equal(b?.key?.toString(), 'text-key')
  t.equal(b?.headers['x-request-id'], generated.headers['x-request-id'], 'generated request id is the record header')
  t.equal(b?.headers.departure, app.kafka.clientId)
  t.notOk('key-encoding' in (b?.headers ?? {}), 'text keys carry no key-encoding')
})

t.test('partitions: one copy per listed partition; out of range → 400 naming the partition count', async t => {
  const app = await build(t)
  const topic = uniqueName('parts')
  await createTopic(app, topic, 3)
  const res = await post(app, { topic, partitions: [0, 2], value: 'copy' })
  t.equal(res.statusCode, 200)
  t.same(res.json().results.map((r: { index: number, partition: number }) => [r.index, r.partition]), [[0, 0], [0, 2]])
  const out = await post(app, { topic, partitions: [1, 3], value: 'x' })
  t.equal(out.statusCode, 400)
  t.match(out.json(), { code: 'GW_PARTITION_OUT_OF_RANGE', message: /has 3 partitions/, details: [{ field: 'body/partitions/1', rule: 'partitionRange', partitionCount: 3 }] })
  const batchOut = await post(app, { topic, messages: [{ value: 'ok' }, { value: 'bad', partitions: [7] }] })
  t.equal(batchOut.statusCode, 400)
  t.match(batchOut.json(), { details: [{ field: 'body/messages/1/partitions/0', partitionCount: 3 }] })
  const records = await readRecords(t, app, topic, 2)
  t.same(records.map(r => [r.partition, r.value?.toString()]).sort(), [[0, 'copy'], [2, 'copy']], 'nothing of the refused requests was written')
})

t.test('keyed records follow murmur2 like the Java client and kafkajs', async t => {
  const app = await build(t)
  const topic = uniqueName('keys')
  await createTopic(app, topic, 6)
  const partitioner = Partitioners.DefaultPartitioner()
  const partitionMetadata = [0, 1, 2, 3, 4, 5].map(partitionId => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }))
  const keys = Array.from({ length: 12 }, (_, i) => `order-${i}`)
  const res = await post(app, { topic, messages: keys.map(key => ({ key, value: key })) })
  t.equal(res.statusCode, 200)
  res.json().results.forEach((r: { partition: number }, i: number) => {
    t.equal(r.partition, partitioner({ topic, partitionMetadata, message: { key: keys[i] as string, value: null } }), `key ${keys[i]}`)
  })
})

t.test('batches answer per record in request order; offsets match what a consumer reads', async t => {
  const app = await build(t)
  const topics = [uniqueName('batch-a'), uniqueName('batch-b')]
  await createTopic(app, topics[0] as string, 3)
  await createTopic(app, topics[1] as string, 2)
  const messages = Array.from({ length: 40 }, (_, i) => ({
    value: { i },
    ...(i % 3 === 0 ? { key: `k${i % 5}` } : {}),
    ...(i % 7 === 0 ? { partitions: [0, 1] } : {})
  }))
  const res = await post(app, { topic: topics[0], messages, options: { acks: 1 } })
  t.equal(res.statusCode, 200)
  const results = res.json().results as Array<{ index: number, topic: string, partition: number, offset: string }>
  const copies = messages.reduce((n, m) => n + (m.partitions?.length ?? 1), 0)
  t.equal(results.length, copies, 'one result per record (copies included)')
  t.same(results.map(r => r.index), messages.flatMap((m, i) => Array.from({ length: m.partitions?.length ?? 1 }, () => i)), 'request order')

  // concurrent single POSTs to both topics are coalesced: each answer's offset is its own record's
  const singles = await Promise.all(Array.from({ length: 60 }, (_, i) =>
    post(app, { topic: topics[i % 2], value: `single-${i}`, ...(i % 4 === 0 ? { key: `s${i}` } : {}) })))
  const singleResults = singles.map(s => {
    t.equal(s.statusCode, 200)
    return s.json().results[0] as { topic: string, partition: number, offset: string }
  })
  t.ok(app.produce.stats().largestBatch > 1, `concurrent requests were coalesced (largest batch ${app.produce.stats().largestBatch})`)

  const records = await readRecords(t, app, topics, copies + 60)
  for (const r of results) t.same(JSON.parse(at(records, r.partition, r.offset, r.topic).value?.toString() ?? ''), messages[r.index]?.value)
  singleResults.forEach((r, i) => t.equal(at(records, r.partition, r.offset, r.topic).value?.toString(), `single-${i}`))
  const offsetsUnique = new Set([...results, ...singleResults].map(r => `${r.topic}/${r.partition}/${r.offset}`))
  t.equal(offsetsUnique.size, copies + 60, 'no two results share an offset')
})

t.test('acks 0 → 202 without offsets; the record still arrives', async t => {
  const app = await build(t)
  const topic = uniqueName('acks0')
  await createTopic(app, topic, 2)
  const res = await post(app, { topic, value: 'fire-and-forget', partitions: [1], options: { acks: 0 } })
  t.equal(res.statusCode, 202)
  t.same(res.json(), { results: [{ index: 0, topic, partition: 1 }] })
  const [r] = await readRecords(t, app, topic, 1)
  t.equal(r?.value?.toString(), 'fire-and-forget')
  t.equal(r?.partition, 1)
})

t.test('every compression codec really compresses and is read back by a consumer', async t => {
  const app = await build(t)
  const { CompressionCodecs, CompressionTypes } = kafkajs
  const codecs = [['gzip', CompressionTypes.GZIP], ['snappy', CompressionTypes.Snappy], ['lz4', CompressionTypes.LZ4], ['zstd', CompressionTypes.ZSTD]] as const
  // count real codec calls (the registered codecs, wrapped, still do the work)
  const calls: Record<string, { compress: number, decompress: number }> = {}
  for (const [name, type] of codecs) {
    const original = CompressionCodecs[type]
    t.ok(original, `${name} registered`)
    calls[name] = { compress: 0, decompress: 0 }
    CompressionCodecs[type] = () => {
      const codec = original()
      return {
        compress: async (encoder: { buffer: Buffer }) => { (calls[name] as { compress: number }).compress++; return await codec.compress(encoder) },
        decompress: async (buffer: Buffer) => { (calls[name] as { decompress: number }).decompress++; return await codec.decompress(buffer) }
      }
    }
    t.teardown(() => { CompressionCodecs[type] = original })
  }
  const topics: string[] = []
  const expected = new Map<string, string[]>()
  for (const [name] of codecs) {
    const topic = uniqueName(`codec-${name}`)
    topics.push(topic)
    await createTopic(app, topic, 1)
    const values = Array.from({ length: 20 }, (_, i) => `${name} record ${i} ${'abcdefgh'.repeat(64)}`)
    expected.set(topic, values)
    const res = await post(app, { topic, messages: values.map(value => ({ value })), options: { compression: name } })
    t.equal(res.statusCode, 200, name)
  }
  const records = await readRecords(t, app, topics, 80)
  for (const topic of topics) {
    t.same(records.filter(r => r.topic === topic).sort((a, b) => Number(a.offset) - Number(b.offset)).map(r => r.value?.toString()), expected.get(topic), topic)
  }
  for (const [name] of codecs) {
    t.ok((calls[name]?.compress ?? 0) >= 1, `${name} compressed on produce`)
    t.ok((calls[name]?.decompress ?? 0) >= 1, `${name} decompressed on consume`)
  }
})

t.test('Idempotency-Key: replay without producing, 422 on another body, 409 while in progress, failures not kept', async t => {
  const registryKey = uniqueName('registry')
  const app = await build(t, { REGISTRY_KEY: registryKey })
  const keys = registryKeys(registryKey)
  const topic = uniqueName('idem')
  await createTopic(app, topic, 1)
  const key = uniqueName('key')
  const body = { topic, messages: [{ value: 'a' }, { value: 'b' }] }
  const first = await post(app, body, { 'idempotency-key': key })
  t.equal(first.statusCode, 200)
  t.notOk(first.headers['idempotent-replayed'])
  // same body with keys in another order is the same request
  const again = await post(app, { messages: [{ value: 'a' }, { value: 'b' }], topic }, { 'idempotency-key': key })
  t.equal(again.statusCode, 200)
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.same(again.json(), first.json())
  t.equal(await recordCount(app, topic), 2, 'the retry produced nothing')

  const other = await post(app, { topic, value: 'different' }, { 'idempotency-key': key })
  t.equal(other.statusCode, 422)
  t.match(other.json(), { code: 'GW_IDEMPOTENCY_KEY_REUSED', details: [{ field: 'headers/idempotency-key' }] })

  // acks 0: the stored answer keeps its 202
  const k0 = uniqueName('key0')
  const a0 = await post(app, { topic, value: 'z', options: { acks: 0 } }, { 'idempotency-key': k0 })
  const b0 = await post(app, { topic, value: 'z', options: { acks: 0 } }, { 'idempotency-key': k0 })
  t.equal(a0.statusCode, 202)
  t.equal(b0.statusCode, 202)
  t.equal(b0.headers['idempotent-replayed'], 'true')

  // a request still running holds the key (SET NX marker): 409 with a retry hint
  const busy = uniqueName('busy')
  const busyBody = { topic, value: 'busy' }
  await app.redis.redis.set(keys.idempotency(busy), JSON.stringify({ state: 'in-progress', hash: bodyHash(busyBody), token: 'other' }), 'PX', 10_000)
  const conflict = await post(app, busyBody, { 'idempotency-key': busy })
  t.equal(conflict.statusCode, 409)
  t.equal(conflict.headers['retry-after'], '1')
  t.match(conflict.json(), { code: 'GW_IDEMPOTENCY_IN_PROGRESS' })

  // a failed request releases its key: the retry really runs
  const missing = uniqueName('later')
  const fk = uniqueName('fail-key')
  const failed = await post(app, { topic: missing, value: 'v' }, { 'idempotency-key': fk })
  t.equal(failed.statusCode, 404)
  t.equal(await app.redis.redis.exists(keys.idempotency(fk)), 0, 'nothing kept for a failure')
  await createTopic(app, missing, 1)
  const retried = await post(app, { topic: missing, value: 'v' }, { 'idempotency-key': fk })
  t.equal(retried.statusCode, 200)
  t.notOk(retried.headers['idempotent-replayed'])
  const ttl = await app.redis.redis.ttl(keys.idempotency(fk))
  t.ok(ttl > 86_000 && ttl <= 86_400, `answer kept for IDEMPOTENCY_TTL_SECONDS (ttl ${ttl})`)

  const bad = await post(app, { topic, value: 'v' }, { 'idempotency-key': 'has spaces in it' })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { details: [{ field: 'headers/idempotency-key' }] })
})

