import t from 'tap'
import { batchBytes, envelopeBytes } from '../../src/webhooks/envelope-bytes.js'
import { needsJsonEscape } from '../../src/webhooks/envelope-value.js'
import { envelopeBody } from '../../src/webhooks/envelope.js'
import { CONTENT_TYPES } from '../../src/kafka/record-format.js'
import type { ConsumedRecord } from '../../src/webhooks/types.js'
import { record } from './fixtures/http.js'

/** What JSON.stringify does to the text, asked of it directly: the reference for needsJsonEscape. */
const escapes = (b: Buffer): boolean => JSON.stringify(b.toString('utf8')) !== `"${b.toString('utf8')}"`

/** A deterministic byte stream (xorshift), so that a failure names a case that can be run again. */
function bytesFrom (seed: number, n: number, alphabet: readonly number[]): Buffer {
  let x = seed | 1
  const out = Buffer.alloc(n)
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    out[i] = alphabet[(x >>> 0) % alphabet.length] as number
  }
  return out
}

t.test('needsJsonEscape agrees with JSON.stringify on every single byte at every alignment and length', async t => {
  // one byte of interest among plain ASCII, at each position of buffers of 1..12 bytes at offsets 0..3
  const pool = Buffer.alloc(64, 0x61)
  let checked = 0
  for (let byte = 0; byte < 0x80; byte++) {
    for (let offset = 0; offset < 4; offset++) {
      for (let len = 1; len <= 12; len++) {
        for (let at = 0; at < len; at++) {
          pool.fill(0x61)
          const b = pool.subarray(offset, offset + len)
          b[at] = byte
          if (needsJsonEscape(b) !== escapes(b)) t.fail(`byte 0x${byte.toString(16)} at ${at} of ${len}, offset ${offset}`)
          checked++
        }
      }
    }
  }
  t.equal(checked, 128 * 4 * 78, 'every case ran')
  t.equal(needsJsonEscape(Buffer.alloc(0)), false)
})

t.test('needsJsonEscape agrees with JSON.stringify on random UTF-8 text, multi-byte characters included', async t => {
  const text = [...'aZ09 ~{}é€😀"\\\n\t\u0001\u007f\u2028'].map(c => [...Buffer.from(c)])
  for (let seed = 1; seed <= 400; seed++) {
    // whole characters only, so that the bytes stay valid UTF-8 as in the path that calls it
    const picks = bytesFrom(seed, 1 + (seed % 90), text.map((_, i) => i))
    const b = Buffer.from([...picks].flatMap(i => text[i] as number[]))
    t.equal(needsJsonEscape(b), escapes(b), `seed ${seed}`)
  }
})

t.test('the bytes are the text bodies encoded, for every kind of value', async t => {
  const cases: ConsumedRecord[] = [
    record(),
    record({ value: Buffer.from(' {"n": 12345678901234567890}\n'), headers: { 'content-type': CONTENT_TYPES.json } }),
    record({ value: Buffer.from('x'.repeat(1024)), headers: { 'content-type': 'text/plain; charset=utf-8', departure: 'bench' } }),
    record({ value: Buffer.from('say "hi"\n\u2028 é'), headers: {} }),
    record({ value: Buffer.from('plain é€😀'), headers: {} }),
    record({ value: Buffer.from([0, 255, 128]), headers: {} }),
    record({ value: Buffer.from('{not json'), headers: { 'content-type': CONTENT_TYPES.json } }),
    record({ value: Buffer.from('bytes'), headers: { 'content-type': CONTENT_TYPES.binary } }),
    record({ key: null, value: null, headers: {} }),
    record({ topic: 'tøpic', key: Buffer.from('ключ'), value: Buffer.alloc(0), headers: { 'x-é': Buffer.from('v') } })
  ]
  for (const [i, r] of cases.entries()) {
    t.same(envelopeBytes(r), Buffer.from(envelopeBody(r)), `envelope ${i}`)
    t.doesNotThrow(() => JSON.parse(envelopeBytes(r).toString('utf8')), `envelope ${i} is JSON`)
  }
  t.same(batchBytes(cases, { nextOffset: '43' }), Buffer.from(`{"records":[${cases.map(envelopeBody).join(',')}],"nextOffset":"43"}`), 'a batch with extra fields')
  t.same(batchBytes(cases.slice(0, 1)), Buffer.from(`{"records":[${envelopeBody(cases[0] as ConsumedRecord)}]}`), 'a batch of one')
})

t.test('a value is copied from its place in a larger buffer (kafkajs hands slices of the fetch)', async t => {
  const fetch = Buffer.from('###{"a": [1, 2]}###plain text###')
  const json = record({ value: fetch.subarray(3, 16), headers: { 'content-type': CONTENT_TYPES.json } })
  const text = record({ value: fetch.subarray(19, 29), headers: {} })
  const body = JSON.parse(batchBytes([json, text]).toString('utf8')) as { records: Array<{ value: unknown }> }
  t.same(body.records.map(r => r.value), [{ a: [1, 2] }, 'plain text'])
})
