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
