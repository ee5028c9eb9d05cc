import t from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { build, uniqueName } from '../helpers/build.js'
import { createTopic, recordCount } from '../produce/helpers.js'

interface Detail { field?: string, rule?: string, message: string }

t.test('malformed bodies: each a 4xx in the error shape naming the field and the rule; nothing written', async t => {
  const app = await build(t)
  const topic = uniqueName('malformed')
  await createTopic(app, topic, 2)
  const headers101 = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`h${i}`, 'v']))
  const cases: Array<[string, unknown, string, string]> = [
    ['no topic', { value: 1 }, 'body/topic', 'required'],
    ['topic not a string', { topic: 5, value: 1 }, 'body/topic', 'type'],
    ['no value in the single form', { topic }, 'body/value', 'required'],
    ['unknown top-level property', { topic, value: 1, colour: 'red' }, 'body/colour', 'additionalProperties'],
    ['acks not -1/0/1', { topic, value: 1, options: { acks: 2 } }, 'body/options/acks', 'enum'],
    ['timeout 0', { topic, value: 1, options: { timeout: 0 } }, 'body/options/timeout', 'minimum'],
    ['timeout too long', { topic, value: 1, options: { timeout: 300_001 } }, 'body/options/timeout', 'maximum'],
    ['timeout a string', { topic, value: 1, options: { timeout: 'fast' } }, 'body/options/timeout', 'type'],
    ['unknown codec', { topic, value: 1, options: { compression: 'brotli' } }, 'body/options/compression', 'enum'],
    ['unknown option', { topic, value: 1, options: { retries: 3 } }, 'body/options/retries', 'additionalProperties'],
    ['options not an object', { topic, value: 1, options: 'fast' }, 'body/options', 'type'],
    ['unknown valueEncoding', { topic, value: 'ab', valueEncoding: 'hex' }, 'body/valueEncoding', 'enum'],
    ['bad base64 value', { topic, value: 'not base64!!', valueEncoding: 'base64' }, 'body/value', 'base64'],
    ['base64 value not a string', { topic, value: { a: 1 }, valueEncoding: 'base64' }, 'body/value', 'type'],
    ['text value not a string', { topic, value: 5, valueEncoding: 'text' }, 'body/value', 'type'],
    ['key a number', { topic, key: 5, value: 1 }, 'body/key', 'type'],
    ['bad base64 key', { topic, key: 'zz*', keyEncoding: 'base64', value: 1 }, 'body/key', 'base64'],
    ['unknown keyEncoding', { topic, key: 'k', keyEncoding: 'hex', value: 1 }, 'body/keyEncoding', 'enum'],
    ['header value a number', { topic, value: 1, headers: { a: 1 } }, 'body/headers/a', 'type'],
    ['headers not an object', { topic, value: 1, headers: 'x' }, 'body/headers', 'type'],
    ['too many headers', { topic, value: 1, headers: headers101 }, 'body/headers', 'maxProperties'],
    ['reserved header departure', { topic, value: 1, headers: { departure: 'me' } }, 'body/headers/departure', 'reservedHeader'],
    ['reserved header arrival', { topic, value: 1, headers: { arrival: 'x' } }, 'body/headers/arrival', 'reservedHeader'],
    ['reserved header Content-Type', { topic, value: 1, headers: { 'Content-Type': 'x' } }, 'body/headers/Content-Type', 'reservedHeader'],
    ['reserved header x-request-id', { topic, value: 1, headers: { 'X-Request-Id': 'x' } }, 'body/headers/X-Request-Id', 'reservedHeader'],
    ['reserved header key-encoding', { topic, value: 1, headers: { 'key-encoding': 'x' } }, 'body/headers/key-encoding', 'reservedHeader'],
    ['empty header name', { topic, value: 1, headers: { '': 'x' } }, 'body/headers/', 'headerName'],
    ['partitions empty', { topic, value: 1, partitions: [] }, 'body/partitions', 'minItems'],
    ['negative partition', { topic, value: 1, partitions: [-1] }, 'body/partitions/0', 'minimum'],
    ['partition listed twice', { topic, value: 1, partitions: [1, 1] }, 'body/partitions', 'uniqueItems'],
    ['partition a string', { topic, value: 1, partitions: ['0'] }, 'body/partitions/0', 'type'],
    ['partition a fraction', { topic, value: 1, partitions: [0.5] }, 'body/partitions/0', 'type'],
    ['partitions not an array', { topic, value: 1, partitions: 0 }, 'body/partitions', 'type'],
    ['arrival empty', { topic, value: 1, arrival: '' }, 'body/arrival', 'minLength'],
    ['arrival a number', { topic, value: 1, arrival: 7 }, 'body/arrival', 'type'],
    ['messages empty', { topic, messages: [] }, 'body/messages', 'minItems'],
    ['messages not an array', { topic, messages: {} }, 'body/messages', 'type'],
    ['message without value', { topic, messages: [{ value: 1 }, { key: 'k' }] }, 'body/messages/1/value', 'required'],
    ['message with a topic', { topic, messages: [{ value: 1, topic: 'x' }] }, 'body/messages/0/topic', 'additionalProperties'],
    ['message not an object', { topic, messages: [1] }, 'body/messages/0', 'type'],
    ['reserved header in a message', { topic, messages: [{ value: 1 }, { value: 2, headers: { departure: 'x' } }] }, 'body/messages/1/headers/departure', 'reservedHeader'],
    ['bad partition in a message', { topic, messages: [{ value: 1, partitions: [-2] }] }, 'body/messages/0/partitions/0', 'minimum'],
    ['value beside messages', { topic, value: 1, messages: [{ value: 2 }] }, 'body/value', 'exclusive'],
    ['partitions beside messages', { topic, partitions: [0], messages: [{ value: 2 }] }, 'body/partitions', 'exclusive'],
    ['body an array', [{ topic, value: 1 }], 'body', 'type'],
    ['body a string', 'hello', 'body', 'type'],
    ['body null', null, 'body', 'type']
  ]
  t.ok(cases.length >= 20)
  for (const [name, payload, field, rule] of cases) {
    const res = await app.inject({ method: 'POST', url: '/messages', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) })
    t.equal(res.statusCode, 400, `${name}: status`)
    const body = res.json() as { statusCode: number, code: string, message: string, details?: Detail[] }
    t.match(body, { statusCode: 400, error: 'Bad Request', code: String, message: String }, `${name}: error shape`)
    t.ok(body.details?.some(d => d.field === field && d.rule === rule), `${name}: names ${field} (${rule}) in ${JSON.stringify(body.details)}`)
  }
  t.equal(await recordCount(app, topic), 0, 'no malformed request wrote anything')
})

t.test('not JSON, prototype poisoning, another media type, an oversize body', async t => {
  const app = await build(t, { BODY_LIMIT_BYTES: '2048' })
  const topic = uniqueName('raw')
  const inject = (payload: string, contentType = 'application/json'): Promise<LightMyRequestResponse> =>
    app.inject({ method: 'POST', url: '/messages', headers: { 'content-type': contentType }, payload })

  const broken = await inject('{"topic": "x", "value": ')
  t.equal(broken.statusCode, 400)
  t.match(broken.json(), { code: 'GW_VALIDATION', details: [{ field: 'body', rule: 'json' }] })

  const empty = await inject('')
  t.equal(empty.statusCode, 400)

  const proto = await inject(`{"topic":"${topic}","value":{"__proto__":{"polluted":true}}}`)
  t.equal(proto.statusCode, 400)
  t.equal(({} as Record<string, unknown>).polluted, undefined)

  const xml = await inject('<topic>x</topic>', 'application/xml')
  t.equal(xml.statusCode, 415)
  t.match(xml.json(), { code: 'GW_UNSUPPORTED_MEDIA_TYPE', details: [{ field: 'header/content-type' }] })

  // Fastify parses text/plain as a string: the body is then not the object the route takes
  const text = await inject('topic=x', 'text/plain')
  t.equal(text.statusCode, 400)
  t.match(text.json(), { code: 'GW_VALIDATION', details: [{ field: 'body', rule: 'type' }] })

  const big = await inject(JSON.stringify({ topic, value: 'x'.repeat(4096) }))
  t.equal(big.statusCode, 413)
  t.match(big.json(), { code: 'GW_PAYLOAD_TOO_LARGE', details: [{ field: 'body', rule: 'bodyLimit' }] })
})

t.test('a record larger than the topic accepts is a 413 before Kafka is asked', async t => {
  const app = await build(t)
  const topic = uniqueName('small-topic')
  await createTopic(app, topic, 1, [{ name: 'max.message.bytes', value: '2048' }])
  const one = await app.inject({ method: 'POST', url: '/messages', payload: { topic, value: 'x'.repeat(4096) } })
  t.equal(one.statusCode, 413)
  t.match(one.json(), { code: 'GW_PAYLOAD_TOO_LARGE', message: /max\.message\.bytes 2048/, details: [{ field: 'body/value', rule: 'maxMessageBytes', maxMessageBytes: 2048 }] })
  const many = await app.inject({ method: 'POST', url: '/messages', payload: { topic, messages: Array.from({ length: 5 }, () => ({ value: 'y'.repeat(600) })) } })
  t.equal(many.statusCode, 413)
  t.match(many.json(), { details: [{ field: 'body/messages', rule: 'maxMessageBytes' }] })
  const fits = await app.inject({ method: 'POST', url: '/messages', payload: { topic, value: 'z'.repeat(1024) } })
  t.equal(fits.statusCode, 200)
  // concurrent requests that fit one by one are never coalesced past the topic's limit
  const concurrent = await Promise.all(Array.from({ length: 10 }, (_, i) =>
    app.inject({ method: 'POST', url: '/messages', payload: { topic, value: `${i}`.repeat(900) } })))
  t.same(concurrent.map(r => r.statusCode), Array(10).fill(200))
  t.equal(await recordCount(app, topic), 11)
})
