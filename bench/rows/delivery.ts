/**
 * delivery: a pre-filled topic delivered by a gateway consumer group (one record per request, and in
 * batches) to the bench receiver, beside a bare kafkajs consumer (read only) and a hand-written kafkajs +
 * undici pusher to the same receiver.
 */
import kafkajs from 'kafkajs'
import type { GatewayProcess } from '../../scripts/lib/launch/gateway.js'
import { bareDeliveryRun, fillTopic, gatewayDeliveryRun, startBareConsumer, type BareConsumer, type DeliveryFigures } from '../lib/delivery.js'
import { medianDelivery, row } from '../lib/medians.js'
import { DELIVERY_BATCH, DELIVERY_CONCURRENCY, DELIVERY_MESSAGES, DELIVERY_WARMUP, KAFKA_HOOKS_REASON, REPS, STALL_MS, VALUE } from '../lib/run-settings.js'
import { MESSAGE_BYTES, PARTITIONS } from '../lib/settings.js'
import { deliveryRow, notRunRow, ratioRow, section } from '../lib/table.js'
import { createTopic, type Bench } from './context.js'

const { ConfigResourceTypes } = kafkajs

interface Reps { gateway: DeliveryFigures[], batched: DeliveryFigures[], read: DeliveryFigures[], http: DeliveryFigures[] }

/** The four contenders on `topic`, `expected` records each, in group names ending with `tag`. */
async function runAll (b: Bench, gw: GatewayProcess, bare: { read: BareConsumer, http: BareConsumer }, topic: string, tag: string, expected: number): Promise<DeliveryFigures[]> {
  const rx = b.receiver
  const common = { topic, expected, concurrency: DELIVERY_CONCURRENCY, stallMs: STALL_MS }
  const group = (kind: string): string => `bench-deliver-${tag.replace('*', kind)}`
  return [
    await gatewayDeliveryRun({ gateway: gw, receiver: rx, groupId: group('gw'), ...common }),
    await gatewayDeliveryRun({ gateway: gw, receiver: rx, groupId: group('gwb'), ...common, batchSize: DELIVERY_BATCH }),
    await bareDeliveryRun({ bare: bare.read, brokers: b.brokerList, groupId: group('read'), ...common }),
    await bareDeliveryRun({ bare: bare.http, receiver: rx, brokers: b.brokerList, groupId: group('http'), ...common })
  ]
}

async function measure (b: Bench, gw: GatewayProcess): Promise<Reps> {
  const { suffix, log } = b
  log(`\n## delivery — filling ${DELIVERY_MESSAGES} + ${DELIVERY_WARMUP} (warm-up) records in ${PARTITIONS} partitions`)
  const topic = await createTopic(b, `bench-delivery-${suffix}`)
  const warmTopic = await createTopic(b, `bench-delivery-warm-${suffix}`)
  // the delivery topic holds ~200 MB: lift the size cap for it
  await b.admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.bytes', value: '-1' }] }] })
  const t0 = performance.now()
  await fillTopic(b.producer, topic, DELIVERY_MESSAGES, PARTITIONS, VALUE)
  await fillTopic(b.producer, warmTopic, DELIVERY_WARMUP, PARTITIONS, VALUE)
  log(`# filled in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  const bare = { read: startBareConsumer(), http: startBareConsumer() }
  try {
    log(`# warm-up: gateway, gateway with batchSize ${DELIVERY_BATCH}, kafkajs (read), kafkajs + undici`)
    await runAll(b, gw, bare, warmTopic, `warm-*-${suffix}`, DELIVERY_WARMUP)
    const reps: Reps = { gateway: [], batched: [], read: [], http: [] }
    for (let i = 1; i <= REPS; i++) {
      const [g, gb, r, h] = await runAll(b, gw, bare, topic, `*-${suffix}-${i}`, DELIVERY_MESSAGES) as [DeliveryFigures, DeliveryFigures, DeliveryFigures, DeliveryFigures]
      reps.gateway.push(g)
      reps.batched.push(gb)
      reps.read.push(r)
      reps.http.push(h)
      log(`# rep ${i}: gateway ${g.messagesPerSec.toFixed(0)} msg/s (p99 ${g.p99Ms === undefined ? 'n/a' : g.p99Ms.toFixed(0)} ms), batches ${gb.messagesPerSec.toFixed(0)} msg/s, ` +
        `kafkajs read ${r.messagesPerSec.toFixed(0)} msg/s, kafkajs + undici ${h.messagesPerSec.toFixed(0)} msg/s (p99 ${h.p99Ms === undefined ? 'n/a' : h.p99Ms.toFixed(0)} ms)`)
    }
    return reps
  } finally {
    await bare.read.close()
    await bare.http.close()
  }
}

export async function deliveryRows (b: Bench, gw: GatewayProcess): Promise<void> {
  const reps = await measure(b, gw)
  const gwRow = row(reps.gateway, medianDelivery)
  const batchRow = row(reps.batched, medianDelivery)
  const readRow = row(reps.read, medianDelivery)
  const httpRow = row(reps.http, medianDelivery)
  const ratioRead = gwRow.median.messagesPerSec / readRow.median.messagesPerSec
  const ratioHttp = gwRow.median.messagesPerSec / httpRow.median.messagesPerSec
  const ratioBatchRead = batchRow.median.messagesPerSec / readRow.median.messagesPerSec
  b.targets.push({ what: 'delivery: gateway ≥ 70% of the bare kafkajs consumer', ratio: ratioRead, goal: '≥ 0.70', met: ratioRead >= 0.7 })
  b.targets.push({ what: `delivery: gateway with batchSize ${DELIVERY_BATCH} ≥ 70% of the bare kafkajs consumer`, ratio: ratioBatchRead, goal: '≥ 0.70', met: ratioBatchRead >= 0.7 })
  b.results.delivery = {
    messages: DELIVERY_MESSAGES,
    partitions: PARTITIONS,
    concurrency: DELIVERY_CONCURRENCY,
    receiver: 'bench/lib/receiver.ts answering 204, in the runner process',
    gateway: gwRow,
    gatewayBatched: { batchSize: DELIVERY_BATCH, ...batchRow },
    kafkajsBareRead: readRow,
    kafkajsUndiciHandWritten: httpRow,
    kafkaHooks: { notRun: KAFKA_HOOKS_REASON },
    ratioGatewayToBareRead: +ratioRead.toFixed(3),
    ratioGatewayToHandWritten: +ratioHttp.toFixed(3),
    ratioGatewayBatchedToBareRead: +ratioBatchRead.toFixed(3)
  }
  b.lines.push(
    section('delivery', `${DELIVERY_MESSAGES} records of ${MESSAGE_BYTES} B in ${PARTITIONS} partitions → receiver (204), concurrency ${DELIVERY_CONCURRENCY}; msg/s first to last delivery`, 'p50 f→2xx', 'p99 f→2xx'),
    deliveryRow('gateway consumer group → webhook', gwRow.median),
    deliveryRow(`gateway, webhook batchSize ${DELIVERY_BATCH}`, batchRow.median),
    deliveryRow('kafkajs bare consumer (read, no HTTP)', readRow.median),
    deliveryRow('kafkajs + undici, hand-written', httpRow.median),
    notRunRow('@platformatic/kafka-hooks', KAFKA_HOOKS_REASON),
    ratioRow('gateway / bare kafkajs consumer', ratioRead, '≥ 0.70'),
    ratioRow('gateway / kafkajs + undici', ratioHttp, ''),
    ratioRow(`gateway batchSize ${DELIVERY_BATCH} / bare kafkajs consumer`, ratioBatchRead, '≥ 0.70')
  )
  if (gwRow.median.p99Ms === undefined) b.lines.push(`  gateway fetch-to-2xx: ${gwRow.median.latencySource}`)
}
