import t from 'tap'
import { batchBytes } from '../../src/webhooks/envelope-bytes.js'
import { envelopeBody, toEnvelope } from '../../src/webhooks/envelope.js'
import { CONTENT_TYPES } from '../../src/kafka/record-format.js'
import { record } from './fixtures/http.js'

/** Bytes the envelope's value stands for, as a receiver would rebuild them. */
function valueBytes (value: unknown, encoding: string | null): Buffer | null {
  if (encoding === null) return null
  if (encoding === 'base64') return Buffer.from(value as string, 'base64')
  if (encoding === 'utf8') return Buffer.from(value as string, 'utf8')
  return Buffer.from(JSON.stringify(value), 'utf8')
}

t.test('JSON content-type: the value is the JSON value, copied verbatim into the body', async t => {
  const raw = ' {"n": 12345678901234567890, "s": "é\\u2028", "arr": [1, 2.50]} '
  const r = record({ value: Buffer.from(raw), headers: { 'content-type': CONTENT_TYPES.json } })
  const env = toEnvelope(r)
  t.equal(env.valueEncoding, 'json')
  t.equal(env.contentType, 'application/json')
  t.same(env.value, JSON.parse(raw))
  const body = envelopeBody(r)
  t.ok(body.includes('"value":{"n": 12345678901234567890, "s": "é\\u2028", "arr": [1, 2.50]}'), 'number digits and formatting kept')
  t.same(JSON.parse(body), env, 'the body parses to the envelope object')
})

t.test('JSON content-type with a JSON string, number, null', async t => {
  for (const raw of ['"123"', '123', 'null', 'true', '[]']) {
    const env = toEnvelope(record({ value: Buffer.from(raw), headers: { 'content-type': 'application/json; charset=utf-8' } }))
    t.equal(env.valueEncoding, 'json', raw)
    t.same(env.value, JSON.parse(raw), raw)
  }
  t.equal(toEnvelope(record({ value: Buffer.from('"123"'), headers: { 'content-type': 'application/json' } })).value, '123')
})

t.test('JSON content-type that does not parse falls back to base64 and says so', async t => {
  const bytes = Buffer.from('{not json')
  const env = toEnvelope(record({ value: bytes, headers: { 'content-type': 'application/json' } }))
  t.equal(env.valueEncoding, 'base64')
  t.equal(env.value, bytes.toString('base64'))
  t.match(env.valueError, /not valid JSON/)
  const bin = Buffer.from([0xff, 0xfe, 0x7b])
  const env2 = toEnvelope(record({ value: bin, headers: { 'content-type': 'application/cloudevents+json' } }))
  t.equal(env2.valueEncoding, 'base64')
  t.match(env2.valueError, /UTF-8/)
  t.same(JSON.parse(envelopeBody(record({ value: bytes, headers: { 'content-type': 'application/json' } }))), env)
})

t.test('text/* is a string; "123" as text stays the string "123"', async t => {
  const env = toEnvelope(record({ value: Buffer.from('123'), headers: { 'content-type': CONTENT_TYPES.text } }))
  t.equal(env.value, '123')
  t.equal(env.valueEncoding, 'utf8')
  const body = envelopeBody(record({ value: Buffer.from('123'), headers: { 'content-type': CONTENT_TYPES.text } }))
  t.equal((JSON.parse(body) as { value: unknown }).value, '123')
  // a text value that is not UTF-8 (or another charset) is delivered as bytes
  const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9])
  t.equal(toEnvelope(record({ value: latin1, headers: { 'content-type': 'text/plain' } })).valueEncoding, 'base64')
  t.equal(toEnvelope(record({ value: Buffer.from('abc'), headers: { 'content-type': 'text/plain; charset=ISO-8859-1' } })).valueEncoding, 'base64')
})

t.test('octet-stream is always base64, even when the bytes are valid UTF-8', async t => {
  const env = toEnvelope(record({ value: Buffer.from('hello'), headers: { 'content-type': CONTENT_TYPES.binary } }))
  t.equal(env.valueEncoding, 'base64')
  t.equal(env.value, Buffer.from('hello').toString('base64'))
})

t.test('no content-type: UTF-8 text is a string (never parsed), other bytes base64', async t => {
  for (const text of ['123', '{"a":1}', 'true', '', 'héllo ✓ \u0000 \ufeffbom']) {
    const env = toEnvelope(record({ value: Buffer.from(text, 'utf8'), headers: {} }))
    t.equal(env.valueEncoding, 'utf8', JSON.stringify(text))
    t.equal(env.value, text)
    t.notOk('contentType' in env)
  }
  const bin = Buffer.from([0, 1, 2, 0xc3, 0x28, 0xff])
  const env = toEnvelope(record({ value: bin, headers: {} }))
  t.equal(env.valueEncoding, 'base64')
  t.same(Buffer.from(env.value as string, 'base64'), bin)
})

t.test('tombstone: value null, valueEncoding null', async t => {
  for (const headers of [{}, { 'content-type': CONTENT_TYPES.json }]) {
    const env = toEnvelope(record({ value: null, headers }))
    t.equal(env.value, null)
    t.equal(env.valueEncoding, null)
  }
  t.same((JSON.parse(envelopeBody(record({ value: null, headers: {} }))) as { value: unknown }).value, null)
})

t.test('keys: utf8 or base64; null key has no keyEncoding; key-encoding: base64 is honoured', async t => {
  t.same(toEnvelope(record({ key: Buffer.from('k✓') })).key, 'k✓')
  t.equal(toEnvelope(record({ key: Buffer.from('k') })).keyEncoding, 'utf8')
  const bin = Buffer.from([0xff, 0x00, 0x80])
  const env = toEnvelope(record({ key: bin }))
  t.equal(env.keyEncoding, 'base64')
  t.same(Buffer.from(env.key ?? '', 'base64'), bin)
  const nul = toEnvelope(record({ key: null }))
  t.equal(nul.key, null)
  t.notOk('keyEncoding' in nul)
  const declared = toEnvelope(record({ key: Buffer.from('abc'), headers: { 'key-encoding': 'binary' } }))
  t.equal(declared.keyEncoding, 'base64')
  t.equal(declared.key, Buffer.from('abc').toString('base64'))
})

t.test('headers: strings, arrays kept, non-UTF-8 as base64 named in headerEncodings', async t => {
  const env = toEnvelope(record({
    headers: {
      'content-type': Buffer.from('application/json'),
      trace: 'abc',
      multi: [Buffer.from('one'), 'two'],
      bin: Buffer.from([0xff, 0x01]),
      binMulti: [Buffer.from('ok'), Buffer.from([0xfe])],
      gone: undefined
    }
  }))
  t.same(env.headers, {
    'content-type': 'application/json',
    trace: 'abc',
    multi: ['one', 'two'],
    bin: Buffer.from([0xff, 0x01]).toString('base64'),
    binMulti: [Buffer.from('ok').toString('base64'), Buffer.from([0xfe]).toString('base64')]
  })
  t.same(env.headerEncodings, { bin: 'base64', binMulti: 'base64' })
  t.notOk('headerEncodings' in toEnvelope(record({ headers: { a: 'b' } })))
})

t.test('envelope field order and metadata', async t => {
  const env = toEnvelope(record())
  t.same(Object.keys(env), ['topic', 'partition', 'offset', 'timestamp', 'key', 'keyEncoding', 'value', 'valueEncoding', 'contentType', 'headers'])
  t.equal(env.topic, 'orders')
  t.equal(env.partition, 2)
  t.equal(env.offset, '42')
  t.equal(env.timestamp, '1700000000000')
  t.same(Object.keys(JSON.parse(envelopeBody(record())) as object), Object.keys(env))
})

t.test('every value round-trips byte-exact through the body', async t => {
  const cases: Array<{ value: Buffer | null, ct?: string }> = [
    { value: Buffer.from('123') },
    { value: Buffer.from('123'), ct: CONTENT_TYPES.text },
    { value: Buffer.from('{"x":[1,2,3]}'), ct: CONTENT_TYPES.json },
    { value: Buffer.from([0, 255, 128, 10, 13]), ct: CONTENT_TYPES.binary },
    { value: Buffer.from([0, 255, 128, 10, 13]) },
    { value: Buffer.alloc(0) },
    { value: null }
  ]
  for (const c of cases) {
    const r = record({ value: c.value, headers: c.ct === undefined ? {} : { 'content-type': c.ct } })
    const parsed = JSON.parse(envelopeBody(r)) as { value: unknown, valueEncoding: string | null }
    t.same(valueBytes(parsed.value, parsed.valueEncoding), c.value, `${c.ct ?? 'none'} ${c.value?.toString('hex') ?? 'null'}`)
  }
})

t.test('a batch body holds each record\'s envelope body verbatim, in order', async t => {
  const a = record({ value: Buffer.from('{"n":12345678901234567890}'), headers: { 'content-type': CONTENT_TYPES.json } })
  const b = record({ value: Buffer.from('text'), offset: '43', headers: { 'content-type': CONTENT_TYPES.text } })
  const body = batchBytes([a, b]).toString('utf8')
  t.equal(body, `{"records":[${envelopeBody(a)},${envelopeBody(b)}]}`)
  t.ok(body.includes('12345678901234567890'), 'big numbers keep every digit')
  t.same((JSON.parse(body) as { records: Array<{ offset: string }> }).records.map(r => r.offset), [a.offset, '43'])
})

t.test('the body is the exact JSON text, written without an intermediate object', async t => {
  const r = record({
    key: Buffer.from([0xff, 0x01]),
    value: Buffer.from('{not json'),
    headers: { 'Content-Type': Buffer.from('application/json'), q: Buffer.from('say "hi"\n'), bin: Buffer.from([0xfe]), multi: ['a', Buffer.from('b')], gone: undefined }
  })
  t.equal(envelopeBody(r), '{"topic":"orders","partition":2,"offset":"42","timestamp":"1700000000000",' +
    '"key":"/wE=","keyEncoding":"base64","value":"e25vdCBqc29u","valueEncoding":"base64","contentType":"application/json",' +
    '"valueError":"declared as JSON but not valid JSON","headers":{"Content-Type":"application/json","q":"say \\"hi\\"\\n",' +
    '"bin":"/g==","multi":["a","b"]},"headerEncodings":{"bin":"base64"}}')
  t.equal(envelopeBody(record({ key: null, value: null, headers: {} })),
    '{"topic":"orders","partition":2,"offset":"42","timestamp":"1700000000000","key":null,"value":null,"valueEncoding":null,"headers":{}}')
  t.equal(batchBytes([record({ key: null, value: Buffer.from(' [1] '), headers: { 'content-type': 'application/json' } })], { nextOffset: '43' }).toString('utf8'),
    '{"records":[{"topic":"orders","partition":2,"offset":"42","timestamp":"1700000000000","key":null,"value":[1],' +
    '"valueEncoding":"json","contentType":"application/json","headers":{"content-type":"application/json"}}],"nextOffset":"43"}')
})

t.test('headers repeated across records are read right whatever changed: value, length, bytes reused by the caller', async t => {
  const headersOf = (b: Buffer): Record<string, string | string[]> => toEnvelope(record({ headers: { h: b, 'content-type': Buffer.from('text/plain') } })).headers
  const shared = Buffer.from('first')
  t.same(headersOf(shared), { h: 'first', 'content-type': 'text/plain' })
  shared.write('other') // the caller's buffer changes after the envelope was written (kafkajs reuses nothing, others might)
  t.same(headersOf(shared), { h: 'other', 'content-type': 'text/plain' })
  t.same(headersOf(Buffer.from('first')), { h: 'first', 'content-type': 'text/plain' })
  t.same(headersOf(Buffer.from('firs')), { h: 'firs', 'content-type': 'text/plain' })
  const long = Buffer.alloc(300, 0x61)
  t.same(headersOf(long).h, 'a'.repeat(300))
  t.same(headersOf(Buffer.alloc(300, 0x62)).h, 'b'.repeat(300))
  const bin = toEnvelope(record({ headers: { h: Buffer.from([0xff]) } }))
  t.same(bin.headers, { h: '/w==' })
  t.same(bin.headerEncodings, { h: 'base64' })
  t.equal(toEnvelope(record({ headers: { h: Buffer.from('ok') } })).headerEncodings, undefined, 'the next record with a UTF-8 value has none')
  // the content-type read from a cached header still decides the value
  const json = record({ value: Buffer.from('[1]'), headers: { 'content-type': Buffer.from('application/json') } })
  t.equal(toEnvelope(json).valueEncoding, 'json')
  t.equal(toEnvelope(json).valueEncoding, 'json')
  t.equal(toEnvelope(record({ value: Buffer.from('[1]'), headers: { 'content-type': Buffer.from('text/plain') } })).valueEncoding, 'utf8')
})
