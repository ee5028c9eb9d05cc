import t from 'tap'
import { createServer, connect, type Socket } from 'node:net'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import kafkajs from 'kafkajs'
import { freePorts } from '../../scripts/lib/launch/free-port.js'
import { startKafka } from '../../scripts/lib/launch/kafka.js'
import { build, uniqueName, waitFor } from '../helpers/build.js'
import { createTopic, recordCount } from '../produce/helpers.js'

const post = (app: FastifyInstance, payload: unknown): Promise<LightMyRequestResponse> =>
  app.inject({ method: 'POST', url: '/messages', payload: payload as object })

/**
 * A TCP relay in front of a broker that advertises the relay's port, so every client connection goes
 * through it. `freeze()` holds all bytes (requests hang: Kafka timeouts), `thaw()` lets them through.
 */
async function relay (listenPort: number, targetPort: number): Promise<{ freeze: () => void, thaw: () => void, close: () => Promise<void> }> {
  const sockets = new Set<Socket>()
  const held: Array<[Socket, Buffer]> = []
  let frozen = false
  const forward = (to: Socket, data: Buffer): void => {
    if (frozen) held.push([to, data])
    else to.write(data)
  }
  const server = createServer(client => {
    const upstream = connect(targetPort, '127.0.0.1')
    sockets.add(client)
    sockets.add(upstream)
    const close = (): void => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('data', (d: Buffer) => forward(upstream, d))
    upstream.on('data', (d: Buffer) => forward(client, d))
    for (const s of [client, upstream]) {
      s.on('error', close)
      s.on('close', close)
    }
  })
  await new Promise<void>(resolve => server.listen(listenPort, '127.0.0.1', resolve))
  return {
    freeze: () => { frozen = true },
    thaw: () => {
      frozen = false
      for (const [to, data] of held.splice(0)) if (!to.destroyed) to.write(data)
    },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

t.test('own broker: Kafka timeout → 504, broker down → 503 with Retry-After, recovery in between', async t => {
  const [brokerPort, relayPort] = await freePorts(2) as [number, number]
  const proxy = await relay(relayPort, brokerPort)
  let proxyClosed = false
  t.teardown(async () => { if (!proxyClosed) await proxy.close() })
  const bootAt = Date.now()
  const kafka = await startKafka({ nodes: 1, port: brokerPort, extraProps: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${relayPort}` } })
  t.teardown(() => kafka.stop())
  t.comment(`broker ready in ${Date.now() - bootAt} ms`)

  const app = await build(t, { KAFKA_BROKERS: `127.0.0.1:${relayPort}`, KAFKA_REQUEST_TIMEOUT_MS: '1500', KAFKA_CONNECTION_TIMEOUT_MS: '1000' })
  const topic = uniqueName('faults')
  await createTopic(app, topic, 2)
  const ok = await waitFor('a first produce', async () => {
    const r = await post(app, { topic, value: 'before' })
    return r.statusCode === 200 ? r : undefined
  }, 30_000, 200)
  t.match(ok.json(), { results: [{ topic }] })

  proxy.freeze()
  const started = Date.now()
  const timedOut = await post(app, { topic, value: 'while frozen' })
  t.equal(timedOut.statusCode, 504, `timed out after ${Date.now() - started} ms`)
  t.match(timedOut.json(), { statusCode: 504, error: 'Gateway Timeout', code: 'GW_KAFKA_TIMEOUT', message: /may or may not have been written/ })
  proxy.thaw()
  await waitFor('produce to recover', async () => (await post(app, { topic, value: 'after thaw' })).statusCode === 200, 30_000, 200)
  t.pass('recovered once the broker answered again')

  await kafka.stop()
  await proxy.close()
  proxyClosed = true
  const stoppedAt = Date.now()
  const down = await waitFor('503', async () => {
    const r = await post(app, { topic, value: 'broker gone' })
    return r.statusCode === 503 ? r : undefined
  }, 60_000, 200)
  t.comment(`503 ${Date.now() - stoppedAt} ms after the broker stopped`)
  t.equal(down.headers['retry-after'], '1')
  t.match(down.json(), { statusCode: 503, code: 'GW_KAFKA_UNAVAILABLE', message: /unreachable/ })
  const again = await post(app, { topic, messages: [{ value: 'a' }, { value: 'b' }] })
  t.equal(again.statusCode, 503, 'still 503 (never 500) while the broker is away')
})

t.test('a broker rejection (MESSAGE_TOO_LARGE) → 413, failing only the batch it is in', async t => {
  const app = await build(t, { PRODUCE_LINGER_MS: '20' })
  // the topic's limit shrinks after the gateway cached it, so the broker itself refuses the record
  const shrinking = uniqueName('shrinking')
  await createTopic(app, shrinking, 1)
  t.equal((await post(app, { topic: shrinking, value: 'small' })).statusCode, 200)
  const admin = await app.kafka.connectedAdmin()
  await admin.alterConfigs({ validateOnly: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: shrinking, configEntries: [{ name: 'max.message.bytes', value: '1024' }] }] })
  const tooLarge = await waitFor('the broker to apply the new limit', async () => {
    const r = await post(app, { topic: shrinking, value: 'x'.repeat(8192) })
    return r.statusCode !== 200 ? r : undefined
  }, 15_000, 200)
  t.equal(tooLarge.statusCode, 413)
  t.match(tooLarge.json(), { code: 'GW_PAYLOAD_TOO_LARGE', message: /MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE/, details: [{ rule: 'kafkaMessageSize' }] })

  const before = await recordCount(app, shrinking)
  const [rejected, neighbour] = await Promise.all([
    post(app, { topic: shrinking, value: 'y'.repeat(8192) }),
    // acks 1 is another batch: its neighbour's failure does not fail it
    post(app, { topic: shrinking, value: 'fits', options: { acks: 1 } })
  ])
  t.equal(rejected.statusCode, 413)
  t.equal(neighbour.statusCode, 200)
  t.equal(await recordCount(app, shrinking), before + 1, 'only the accepted record was written')
})
