/**
 * Values round-trip exactly from POST /messages to the webhook envelope: a JSON object as JSON, the text
 * "123" as a string (never a number), binary bytes as base64 with the encoding named, a tombstone as null;
 * keys likewise. The X-Request-Id of the produce request reaches the webhook as the `x-request-id` header.
 */
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { uniqueName, waitFor } from '../helpers/build.js'
import { FAST_CONSUMER, createTopic, defineGroup, e2eGateway, postMessages } from './helpers/gateway.js'
import { one, startHook, type Hit } from './helpers/hook.js'

t.test('JSON, text "123", binary, tombstone and keys arrive exactly; X-Request-Id reaches the webhook', async t => {
  const app = await e2eGateway(t)
  const topic = await createTopic(app, 1, 'envelope')
  const groupId = uniqueName('envelope')
  const hook = await startHook(t)
  await defineGroup(app, groupId, { isPartitionAssign: false, fromBeginning: true, topics: [{ name: topic }], webhook: { url: hook.url }, consumer: FAST_CONSUMER })

  // bytes that are not valid UTF-8 (0xff, 0xfe, a lone continuation byte) plus random ones
  const binary = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0x80]), randomBytes(64)])
  const binaryKey = Buffer.from([0x00, 0xff, 0x10, 0x80])
  const json = { a: 1, nested: { list: [1, 'two', null, true], empty: {} }, text: 'ünïcødé ✓', n: -0.5 }
  const requestId = `req-${uniqueName('e2e')}`
  const produced = await postMessages(app, topic, [
    { value: json, key: 'order-1', headers: { 'x-trace': 't-1' } },
    { value: '123' },
    { value: 123 },
    { value: '123', valueEncoding: 'json' },
    { value: binary.toString('base64'), valueEncoding: 'base64', key: binaryKey.toString('base64'), keyEncoding: 'base64' },
    { value: null, key: 'order-1' },
    { value: '' }
  ], { requestId })
  t.equal(produced.length, 7)

  await waitFor('7 deliveries', () => hook.ok().length === 7, 30_000)
  const at = (i: number): Hit => {
    const p = produced[i]
    const hit = hook.ok().find(h => h.body.offset === p?.offset)
    if (hit === undefined) throw new Error(`record ${i} not delivered`)
    return hit
  }

  const j = at(0)
  t.same(j.body.value, json, 'a JSON object arrives as the same JSON')
  t.equal(j.body.valueEncoding, 'json')
  t.equal(j.body.contentType, 'application/json')
  t.equal(j.body.key, 'order-1')
  t.equal(j.body.keyEncoding, 'utf8')
  t.equal(j.body.headers['x-trace'], 't-1', 'user headers arrive in the envelope')
  t.equal(j.body.topic, topic)
  t.equal(j.body.partition, 0)
  t.equal(j.body.offset, produced[0]?.offset)
  t.match(j.body.timestamp, /^\d{13}$/)

  const text = at(1)
  t.equal(text.body.value, '123', 'the text "123" stays a string')
  t.equal(text.body.valueEncoding, 'utf8')
  t.ok(text.raw.includes('"value":"123"'), 'literally "123" in the body')
  t.equal(at(2).body.value, 123, 'the JSON number 123 stays a number')
  t.equal(at(2).body.valueEncoding, 'json')
  t.equal(at(3).body.value, '123', 'a string written as JSON comes back as that string')
  t.equal(at(3).body.valueEncoding, 'json')

  const bin = at(4)
  t.equal(bin.body.valueEncoding, 'base64', 'binary bytes named base64')
  t.equal(bin.body.value, binary.toString('base64'))
  t.ok(Buffer.from(String(bin.body.value), 'base64').equals(binary), 'byte-exact after decoding')
  t.equal(bin.body.contentType, 'application/octet-stream')
  t.equal(bin.body.keyEncoding, 'base64', 'a binary key named base64')
  t.ok(Buffer.from(String(bin.body.key), 'base64').equals(binaryKey), 'the key byte-exact')

  const tomb = at(5)
  t.equal(tomb.body.value, null, 'a tombstone arrives with value null')
  t.equal(tomb.body.valueEncoding, null)
  t.equal(tomb.body.key, 'order-1', 'with its key')
  t.ok(tomb.raw.includes('"value":null'))

  t.equal(at(6).body.value, '', 'an empty string stays an empty string')
  t.equal(at(6).body.valueEncoding, 'utf8')

  for (const hit of hook.ok()) {
    t.equal(one(hit.headers, 'x-request-id'), requestId, `offset ${hit.body.offset}: the produce request's X-Request-Id as a webhook header`)
    t.equal(hit.body.headers['x-request-id'], requestId, `offset ${hit.body.offset}: and in the envelope headers`)
  }
})
