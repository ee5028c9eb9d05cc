import t from 'tap'
import { pino } from 'pino'
import { startBenchReceiver } from '../../bench/lib/receiver.js'
import { createDeliverer } from '../../src/webhooks/delivery/deliverer.js'
import { context, record } from './fixtures/http.js'

t.test('the bench receiver answers 204, counts, and records fetch-to-receipt latency from the deliverer\'s header', async t => {
  const rx = await startBenchReceiver()
  t.teardown(() => rx.close())
  const noKafka = async (): Promise<never> => { throw new Error('unused') }
  const d = createDeliverer({
    getProducer: noKafka, getAdmin: noKafka, logger: pino({ level: 'silent' }), userAgent: 'bench', defaults: { timeoutMs: 5000 }, fetchedAtHeader: 'x-fetched-at'
  })
  t.teardown(() => d.close())
  for (let i = 0; i < 20; i++) {
    const out = await d.deliver(record({ offset: String(i) }), context({ url: rx.url }).ctx)
    t.same(out, { outcome: 'delivered', attempts: 1, status: 204 })
  }
  t.equal(rx.count(), 20)
  t.ok(rx.bytes() > 0)
  t.equal(rx.latencies().length, 20)
  t.ok((rx.percentile(0.5) ?? -1) >= 0)
  t.ok((rx.percentile(0.99) ?? -1) >= (rx.percentile(0.5) ?? 0))
  rx.reset()
  t.equal(rx.count(), 0)
  t.equal(rx.percentile(0.99), undefined)
})

t.test('the bench receiver keeps the arrival time of each envelope by the sequence number in a record header, while tracking', async t => {
  const rx = await startBenchReceiver()
  t.teardown(() => rx.close())
  const noKafka = async (): Promise<never> => { throw new Error('unused') }
  const d = createDeliverer({ getProducer: noKafka, getAdmin: noKafka, logger: pino({ level: 'silent' }), userAgent: 'bench', defaults: { timeoutMs: 5000 } })
  t.teardown(() => d.close())
  const deliver = async (seq: number): Promise<void> => {
    const headers = { 'content-type': 'text/plain; charset=utf-8', 'bench-seq': String(seq) }
    await d.deliver(record({ offset: String(seq), value: Buffer.from('x'.repeat(2000)), headers }), context({ url: rx.url }).ctx)
  }
  await deliver(1)
  t.equal(rx.arrivals().size, 0, 'nothing kept before trackSeq')
  rx.trackSeq('bench-seq')
  const before = performance.timeOrigin + performance.now()
  for (const seq of [7, 8, 9]) await deliver(seq)
  t.same([...rx.arrivals().keys()], [7, 8, 9])
  for (const at of rx.arrivals().values()) t.ok(at >= before && at <= performance.timeOrigin + performance.now())
  rx.trackSeq(undefined)
  await deliver(10)
  t.equal(rx.arrivals().size, 3, 'nothing kept after trackSeq(undefined)')
  t.equal(rx.count(), 5)
  rx.reset()
  t.equal(rx.arrivals().size, 0)
})
