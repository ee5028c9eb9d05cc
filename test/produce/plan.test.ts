import t, { type Test } from 'tap'
import kafkajs from 'kafkajs'
import { AppError } from '../../src/errors.js'
import { registerCodecs } from '../../src/kafka/codecs.js'
import { decodeBase64, encodeKey, encodeValue, userHeaders } from '../../src/produce/encoding.js'
import { DEFAULT_OPTIONS, encodeMessage, normalizeRequest, resolveOptions } from '../../src/produce/plan.js'
import type { ProduceRequestInput } from '../../src/produce/types.js'

function fails (t: Test, fn: () => unknown, field: string, rule: string): void {
  try {
    fn()
    t.fail(`expected a 400 on ${field}`)
  } catch (err) {
    t.type(err, AppError)
    t.match(err, { statusCode: 400, code: 'GW_VALIDATION', details: [{ field, rule }] }, `${field} ${rule}`)
  }
}

t.test('values: JSON, text, base64 bytes, tombstones', async t => {
  t.same(encodeValue({ value: { a: [1, true] } }, 'body'), { value: Buffer.from('{"a":[1,true]}'), contentType: 'application/json' })
  t.same(encodeValue({ value: 0 }, 'body'), { value: Buffer.from('0'), contentType: 'application/json' })
  t.same(encodeValue({ value: 'ü' }, 'body'), { value: Buffer.from('ü', 'utf8'), contentType: 'text/plain; charset=utf-8' })
  t.same(encodeValue({ value: 'ü', valueEncoding: 'json' }, 'body'), { value: Buffer.from('"ü"', 'utf8'), contentType: 'application/json' })
  t.same(encodeValue({ value: null }, 'body'), { value: null, contentType: undefined })
  t.same(encodeValue({ value: null, valueEncoding: 'base64' }, 'body'), { value: null, contentType: undefined })
  const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255])
  t.same(encodeValue({ value: bytes.toString('base64'), valueEncoding: 'base64' }, 'body'), { value: bytes, contentType: 'application/octet-stream' })
  t.same(encodeValue({ value: bytes.toString('base64url'), valueEncoding: 'base64' }, 'body'), { value: bytes, contentType: 'application/octet-stream' })
  fails(t, () => encodeValue({}, 'body/messages/2'), 'body/messages/2/value', 'required')
  fails(t, () => encodeValue({ value: 'a b', valueEncoding: 'base64' }, 'body'), 'body/value', 'base64')
})

t.test('base64 is strict: never a silent partial decode', async t => {
  for (const ok of ['', 'AA==', 'AAA=', 'AAAA', '-_8', 'ab+/', 'YWJj']) t.ok(decodeBase64(ok, 'f'), ok)
  for (const bad of ['A', 'AA=', '====', 'A===', 'ab cd', 'ab\ncd', 'ab+_', '*', 'YWJj=']) {
    fails(t, () => decodeBase64(bad, 'f'), 'f', 'base64')
  }
})

t.test('keys and headers', async t => {
  t.same(encodeKey({ key: 'k' }, 'body'), { key: Buffer.from('k'), binary: false })
  t.same(encodeKey({ key: null }, 'body'), { key: null, binary: false })
  t.same(encodeKey({}, 'body'), { key: null, binary: false })
  t.same(encodeKey({ key: '3q2+7w==', keyEncoding: 'base64' }, 'body'), { key: Buffer.from([0xde, 0xad, 0xbe, 0xef]), binary: true })
  fails(t, () => encodeKey({ key: '*', keyEncoding: 'base64' }, 'body'), 'body/key', 'base64')
  t.same(userHeaders({ headers: { a: '1', 'x-custom': '' } }, 'body'), { a: '1', 'x-custom': '' })
  for (const reserved of ['departure', 'ARRIVAL', 'Content-Type', 'key-encoding', 'X-Request-ID']) {
    fails(t, () => userHeaders({ headers: { [reserved]: 'x' } }, 'body'), `body/headers/${reserved}`, 'reservedHeader')
  }
  fails(t, () => userHeaders({ headers: { ['h'.repeat(256)]: 'x' } }, 'body'), `body/headers/${'h'.repeat(256)}`, 'headerName')
})

t.test('the message adds content-type and key-encoding; sizes bound the encoded record', async t => {
  const m = encodeMessage({ key: 'AAE=', keyEncoding: 'base64', value: { a: 1 }, headers: { h: 'v' } }, 3, 'body/messages/3')
  t.same(m.headers, { h: 'v', 'content-type': 'application/json', 'key-encoding': 'binary' })
  t.equal(m.index, 3)
  t.ok(m.bytes > 2 + 7 + 'content-type'.length + 'application/json'.length, `bytes ${m.bytes}`)
  const tomb = encodeMessage({ key: 'k', value: null }, 0, 'body')
  t.same(tomb.headers, {}, 'a tombstone carries no content-type')
})

t.test('the request form: single xor batch; options defaults and bounds', async t => {
  const single = normalizeRequest({ topic: 't', value: 'v' })
  t.equal(single.batch, false)
  t.same(single.options, DEFAULT_OPTIONS)
  t.same(single.options, { acks: -1, timeout: 30_000, compression: 'none' })
  const batch = normalizeRequest({ topic: 't', messages: [{ value: 1 }, { value: null, partitions: [0, 1] }], options: { acks: 1, compression: 'gzip' } })
  t.equal(batch.batch, true)
  t.same(batch.messages.map(m => m.prefix), ['body/messages/0', 'body/messages/1'])
  t.same(batch.messages[1]?.partitions, [0, 1])
  t.same(batch.options, { acks: 1, timeout: 30_000, compression: 'gzip' })
  fails(t, () => normalizeRequest({ topic: 't', key: 'k', messages: [{ value: 1 }] }), 'body/key', 'exclusive')
  fails(t, () => normalizeRequest({ topic: 't', messages: [] }), 'body/messages', 'minItems')
  fails(t, () => normalizeRequest({ topic: '..', value: 1 }), 'body/topic', 'topicName')
  fails(t, () => normalizeRequest({ value: 1 } as unknown as ProduceRequestInput), 'body/topic', 'required')
  fails(t, () => normalizeRequest({ topic: 't', value: 1, partitions: [2, 2] }), 'body/partitions/1', 'uniqueItems')
  fails(t, () => normalizeRequest({ topic: 't', value: 1, partitions: [] }), 'body/partitions', 'minItems')
  fails(t, () => normalizeRequest({ topic: 't', value: 1, options: { acks: 2 as -1 } }), 'body/options/acks', 'enum')
  fails(t, () => normalizeRequest({ topic: 't', value: 1, options: { timeout: 1.5 } }), 'body/options/timeout', 'range')
})

t.test('a codec kafkajs does not have is refused, never sent uncompressed', async t => {
  const { CompressionCodecs, CompressionTypes } = kafkajs
  const saved = CompressionCodecs[CompressionTypes.ZSTD]
  delete (CompressionCodecs as Partial<typeof CompressionCodecs>)[CompressionTypes.ZSTD]
  t.teardown(() => { if (saved !== undefined) CompressionCodecs[CompressionTypes.ZSTD] = saved; else registerCodecs() })
  fails(t, () => resolveOptions({ compression: 'zstd' }), 'body/options/compression', 'codecAvailable')
  registerCodecs()
  t.same(resolveOptions({ compression: 'zstd' }), { acks: -1, timeout: 30_000, compression: 'zstd' })
  t.same(resolveOptions({ compression: 'gzip' }).compression, 'gzip', 'gzip is built into kafkajs')
})
