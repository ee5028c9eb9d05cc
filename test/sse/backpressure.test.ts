/**
 * SSE backpressure (issue 13, item 3): a client that stops reading fills the socket; the stream pauses
 * its partitions instead of buffering the topic in memory, and once the client reads again every record
 * arrives exactly once, in offset order.
 */
import type { Socket } from 'node:net'
import t from 'tap'
import { waitFor } from '../helpers/build.js'
import { createTopic, e2eGateway } from '../e2e/helpers/gateway.js'
import { listening, rawStream } from './helpers/streams.js'

const RECORDS = 240
const VALUE_BYTES = 64 * 1024

t.test('a client that stops reading pauses the stream; nothing is lost or repeated when it reads again', async t => {
  const app = await e2eGateway(t, { env: { SSE_HEARTBEAT_MS: '100' } })
  // the gateway's side of the stream's connection: what it holds in memory waiting for the client
  let socket: Socket | undefined
  app.server.on('connection', (s: Socket) => { socket = s })
  const base = await listening(app)
  const topic = await createTopic(app, 2, 'sse-slow')
  const producer = await app.kafka.connectedProducer()
  const value = 'x'.repeat(VALUE_BYTES)
  for (let i = 0; i < RECORDS; i += 10) {
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_v, j) => ({ value: `${i + j}:${value}`, partition: (i + j) % 2 })) })
  }
  const stream = await rawStream(t, `${base}/topics/${topic}/events?from=earliest`)
  stream.res.pause()
  // ~15 MiB of events cannot fit in the socket buffers: the gateway's writes hit backpressure
  await waitFor('the gateway\'s socket needs a drain', () => socket?.writableNeedDrain === true)
  const held = socket?.writableLength ?? 0
  // heartbeats still get written (a few bytes each): once several were, the stream had every chance to overfill
  await waitFor('a few heartbeats later', () => (socket?.writableLength ?? 0) >= held + 5 * ': ping\n\n'.length)
  t.ok((socket?.writableLength ?? Infinity) < 2 * 1024 * 1024, `the gateway holds ${socket?.writableLength ?? 0} bytes for the stalled client, not the ~15 MiB topic`)
  stream.res.resume()
  const count = (): number => (stream.text().match(/\nevent: record\n/g) ?? []).length
  await waitFor(`all ${RECORDS} records`, () => count() >= RECORDS, 60_000)
  const seen = [...stream.text().matchAll(/"partition":(\d+),"offset":"(\d+)"/g)].map(m => `${m[1]}/${m[2]}`)
  t.equal(seen.length, RECORDS, 'every record once')
  t.equal(new Set(seen).size, RECORDS, 'none twice')
  for (const p of ['0', '1']) {
    const offsets = seen.filter(s => s.startsWith(`${p}/`)).map(s => Number(s.slice(2)))
    t.same(offsets, offsets.map((_o, i) => i), `partition ${p}: 0..${offsets.length - 1} in order`)
  }
})
