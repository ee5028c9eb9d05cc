/**
 * Confluent's own node client (kafka-rest 0.0.5; it supports only `version: 1`) against the gateway: it creates an instance
 * with POST /consumers/{group} (`application/vnd.kafka.v1+json`), reads through Confluent v1's
 * GET …/topics/{topic} (subscribing the instance) with Accept `application/vnd.kafka.binary.v1+json`,
 * commits with an empty POST …/offsets and deletes the instance.
 */
import t from 'tap'
import { createRequire } from 'node:module'
import { uniqueName, waitFor } from '../helpers/build.js'
import { createTopic, e2eGateway, postMessages, registryKey } from '../e2e/helpers/gateway.js'
import { injectCall } from './helpers.js'

interface Message { key: Buffer | null, value: Buffer, partition: number, offset: number }
interface Stream { on (event: 'data', fn: (msgs: Message[]) => void): void, on (event: 'error', fn: (err: Error) => void): void }
interface Instance { id: string, subscribe (topic: string): Stream, commit (cb: (err: Error | null) => void): void, shutdown (cb: (err?: Error | null) => void): void }
interface KafkaRestClient { consumer (group: string): { join (opts: Record<string, string>, cb: (err: Error | null, ci: Instance) => void): void } }

const require = createRequire(import.meta.url)
const KafkaRest = require('kafka-rest') as new (opts: { url: string, version: number }) => KafkaRestClient

t.test('the kafka-rest node client consumes through the gateway', async t => {
  const app = await e2eGateway(t, { registryKey: registryKey(t) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address() as { port: number }
  const topic = await createTopic(app, 1, 'pull-kr')
  await postMessages(app, topic, Array.from({ length: 20 }, (_v, i) => ({ value: `v-${i}`, valueEncoding: 'text' as const, key: `k-${i}` })))

  const client = new KafkaRest({ url: `http://127.0.0.1:${address.port}`, version: 1 })
  const groupId = uniqueName('pull-kr')
  const instance = await new Promise<Instance>((resolve, reject) => {
    client.consumer(groupId).join({ format: 'binary', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' }, (err, ci) => { if (err !== null) reject(err); else resolve(ci) })
  })
  t.ok(instance.id.length > 0, 'an instance was created')

  const got: Message[] = []
  const stream = instance.subscribe(topic)
  stream.on('error', err => { t.fail(`stream error: ${err.message}`) })
  stream.on('data', msgs => { got.push(...msgs) })
  await waitFor('20 records through the client', () => got.length >= 20, 60_000, 100)
  t.same(got.map(m => m.value.toString()), Array.from({ length: 20 }, (_v, i) => `v-${i}`), 'every value, in order, decoded from base64')
  t.equal(got[3]?.key?.toString(), 'k-3', 'keys too')

  await new Promise<void>((resolve, reject) => { instance.commit(err => { if (err !== null) reject(err); else resolve() }) })
  const offsets = await injectCall(app)('GET', `/consumers/${groupId}/instances/${instance.id}/offsets`)
  t.same(offsets.json(), { offsets: [{ topic, partition: 0, offset: '20' }] }, 'the empty commit committed everything polled')
  // ends the stream (after its poll in flight), then deletes the instance
  await new Promise<void>((resolve, reject) => { instance.shutdown(err => { if (err !== null && err !== undefined) reject(err); else resolve() }) })
  t.equal((await injectCall(app)('GET', `/consumer-groups/${groupId}`)).statusCode, 404, 'the instance is gone')
})
