/**
 * Confluent REST Proxy v2 produce (issue 13, item 4) with Confluent's own node client (kafka-rest 0.0.5,
 * binary through its default) and hand-written JSON-format requests; every record is read back with
 * kafkajs and its bytes compared. Errors come in Confluent's `{error_code, message}` shape naming the field.
 */
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import t, { type Test } from 'tap'
import kafkajs from 'kafkajs'
import { uniqueName, waitFor } from '../helpers/build.js'
import { createTopic, e2eGateway } from '../e2e/helpers/gateway.js'
import { listening } from '../sse/helpers/streams.js'

interface Produced { key_schema_id: null, value_schema_id: null, offsets: Array<{ partition: number, offset: number, error_code: null, error: null }> }
interface KafkaRestTopic { produce: (...args: unknown[]) => void }
interface KafkaRestClient { topic: (name: string) => KafkaRestTopic & { partition: (id: number) => KafkaRestTopic } }
type KafkaRestCtor = (new (opts: { url: string, version: number }) => KafkaRestClient) & { prototype: { SUPPORTED_VERSIONS: number[] } }

// kafka-rest is CommonJS without types
const KafkaRest = createRequire(import.meta.url)('kafka-rest') as KafkaRestCtor

const viaClient = async (target: KafkaRestTopic, ...records: unknown[]): Promise<Produced> => await new Promise((resolve, reject) => {
  target.produce(...records, (err: unknown, res: Produced) => { if (err !== null && err !== undefined) reject(err instanceof Error ? err : new Error(JSON.stringify(err))); else resolve(res) })
})

/** Every record of `topic`, read with a kafkajs consumer of its own. */
async function readBack (t: Test, topic: string, count: number): Promise<kafkajs.KafkaMessage[]> {
  const kafka = new kafkajs.Kafka({ brokers: (process.env.KAFKA_BROKERS ?? '').split(','), logLevel: kafkajs.logLevel.NOTHING })
  const consumer = kafka.consumer({ groupId: uniqueName('confluent-read'), maxWaitTimeInMs: 100 })
  t.teardown(() => consumer.disconnect())
  const got: kafkajs.KafkaMessage[] = []
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({ eachMessage: async ({ message }) => { got.push(message) } })
  await waitFor(`${count} records read back`, () => got.length >= count, 30_000)
  return got
}

// kafka-rest 0.0.5 speaks only v1 (SUPPORTED_VERSIONS = [1]); its requests are built from the version number,
// so allowing 2 makes it send v2's media types with the same code
KafkaRest.prototype.SUPPORTED_VERSIONS = [1, 2]

for (const version of [1, 2]) {
t.test(`the kafka-rest client (v${version}) produces binary records; the bytes land unchanged`, async t => {
  const app = await e2eGateway(t)
  const base = await listening(app)
  const topic = await createTopic(app, 3, `confluent-bin-v${version}`)
  const kafka = new KafkaRest({ url: base, version })
  const blob = Buffer.concat([Buffer.from([0x00, 0xff, 0xfe]), randomBytes(61)])
  const res = await viaClient(kafka.topic(topic), [{ key: 'k-1', value: blob }, { value: 'text value', partition: 2 }])
  t.equal(res.key_schema_id, null)
  t.equal(res.value_schema_id, null)
  t.equal(res.offsets.length, 2)
  t.equal(res.offsets[1]?.partition, 2, 'the requested partition')
  t.ok(res.offsets.every(o => Number.isInteger(o.offset) && o.error_code === null && o.error === null), 'offsets as numbers, no errors')
  const one = await viaClient(kafka.topic(topic).partition(1), 'to partition 1')
  t.same(one.offsets.map(o => [o.partition, o.offset]), [[1, 0]], 'POST /topics/{t}/partitions/{p}')

  const back = await readBack(t, topic, 3)
  const byValue = (v: Buffer | string): kafkajs.KafkaMessage | undefined => back.find(m => m.value?.equals(Buffer.from(v)) === true)
  t.ok(byValue(blob)?.key?.equals(Buffer.from('k-1')), 'binary value and key, byte for byte')
  t.ok(byValue('text value'), 'the text value')
  t.ok(byValue('to partition 1'), 'the partition record')
})
}

t.test('the json format: values and keys written as JSON text', async t => {
  const app = await e2eGateway(t)
  const base = await listening(app)
  const topic = await createTopic(app, 1, 'confluent-json')
  const records = [{ key: 'order-1', value: { id: 1, list: [1, 'two', null] } }, { value: 'a string' }, { key: { k: 2 }, value: 42 }, { key: 'gone', value: null }]
  const res = await fetch(`${base}/topics/${topic}`, { method: 'POST', headers: { 'content-type': 'application/vnd.kafka.json.v2+json', accept: 'application/vnd.kafka.v2+json' }, body: JSON.stringify({ records }) })
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^application\/vnd\.kafka\.v2\+json/)
  t.same(await res.json(), { key_schema_id: null, value_schema_id: null, offsets: [0, 1, 2, 3].map(offset => ({ partition: 0, offset, error_code: null, error: null })) })
  const back = (await readBack(t, topic, 4)).sort((a, b) => Number(a.offset) - Number(b.offset))
  t.same(back.map(m => m.value?.toString() ?? null), ['{"id":1,"list":[1,"two",null]}', '"a string"', '42', null], 'values as JSON text; null a tombstone')
  t.same(back.map(m => m.key?.toString() ?? null), ['"order-1"', null, '{"k":2}', '"gone"'], 'keys as JSON text, as Confluent writes them')
})

t.test('Confluent-style errors naming the field', async t => {
  const app = await e2eGateway(t)
  const topic = await createTopic(app, 2, 'confluent-bad')
  const post = async (url: string, payload: unknown, type = 'application/vnd.kafka.binary.v2+json'): Promise<{ status: number, body: { error_code: number, message: string } }> => {
    const res = await app.inject({ method: 'POST', url, headers: { 'content-type': type }, payload: JSON.stringify(payload) })
    t.match(res.headers['content-type'], /^application\/vnd\.kafka\.v2\+json/, `${url}: Confluent's content type`)
    return { status: res.statusCode, body: res.json() }
  }
  const cases: Array<[string, unknown, string | undefined, number, number, RegExp]> = [
    ['/topics/no-such-topic-confluent', { records: [{ value: 'AA==' }] }, undefined, 404, 40401, /params\/topic/],
    [`/topics/${topic}`, { records: [{ value: 'AA==', partition: 9 }] }, undefined, 404, 40402, /body\/records\/0\/partition/],
    [`/topics/${topic}/partitions/5`, { records: [{ value: 'AA==' }] }, undefined, 404, 40402, /params\/partition/],
    [`/topics/${topic}`, { records: [{ value: 'not base64!' }] }, undefined, 400, 400, /body\/records\/0\/value.*base64/],
    [`/topics/${topic}`, { records: [{ value: 7 }] }, undefined, 400, 400, /body\/records\/0\/value.*base64/],
    [`/topics/${topic}`, { records: [] }, undefined, 400, 400, /body\/records/],
    [`/topics/${topic}`, { records: [{ value: 'AA==' }], value_schema: '{}' }, undefined, 400, 400, /body\/value_schema/],
    [`/topics/${topic}/partitions/0`, { records: [{ value: 'AA==', partition: 1 }] }, undefined, 400, 400, /body\/records\/0\/partition/],
    [`/topics/${topic}`, { records: [{ value: 'x' }] }, 'application/vnd.kafka.avro.v2+json', 415, 415, /header\/content-type/]
  ]
  for (const [url, payload, type, status, code, message] of cases) {
    const res = await post(url, payload, type)
    t.equal(res.status, status, `${url} ${JSON.stringify(payload)}: ${status}`)
    t.same(Object.keys(res.body).sort(), ['error_code', 'message'], 'the Confluent error shape')
    t.equal(res.body.error_code, code)
    t.match(res.body.message, message)
  }
  const json = await app.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': 'application/json' }, payload: '{"records":[{"value":1}]}' })
  t.equal(json.statusCode, 415, 'plain application/json is not a Confluent embedded format')
})

t.test('API keys: Confluent produce needs the produce scope and the topic in the key\'s globs', async t => {
  const app = await e2eGateway(t, { env: { API_KEYS: 'reader:consume;writer:produce:confluent-ok-*' } })
  const post = async (key: string, url: string): Promise<number> => (await app.inject({
    method: 'POST', url, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/vnd.kafka.binary.v2+json' }, payload: '{"records":[{"value":"AA=="}]}'
  })).statusCode
  t.equal(await post('reader', '/topics/confluent-ok-a'), 403, 'a consume-only key')
  t.equal(await post('writer', '/topics/confluent-other/partitions/0'), 403, 'a topic outside the key\'s globs')
  t.equal(await post('writer', '/topics/confluent-ok-missing'), 404, 'allowed: on to the produce (an unknown topic)')
})
