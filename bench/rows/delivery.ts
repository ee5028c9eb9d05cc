/**
 * delivery: a pre-filled topic delivered by a gateway consumer group (one record per request, and in
 * batches) to the bench receiver, beside a bare kafkajs consumer (read only), a hand-written kafkajs +
 * undici pusher and @platformatic/kafka-hooks delivering to the same receiver, and the Strimzi bridge's
 * pull consumer (records/s polled) beside the gateway's own pull consumer (issue 13), both compared with
 * the bare kafkajs read.
 */
import kafkajs from 'kafkajs'
import type { GatewayProcess } from '../../scripts/lib/launch/gateway.js'
import { contenderLines, contenderResults, interleaveDelivery, ratioTo, repRatios, type DeliveryContender } from '../lib/contenders.js'
import { bareDeliveryRun, fillTopic, gatewayDeliveryRun, startBareConsumer, type BareConsumer } from '../lib/delivery.js'
import { gatewayPullRun } from '../lib/gateway-pull.js'
import { hooksDeliveryRun, strimziPollRun } from '../lib/peer-delivery.js'
import { hooksName, strimziName } from '../lib/peers.js'
import { DELIVERY_BATCH, DELIVERY_CONCURRENCY, DELIVERY_MESSAGES, DELIVERY_WARMUP, STALL_MS, VALUE } from '../lib/run-settings.js'
import { MESSAGE_BYTES, PARTITIONS } from '../lib/settings.js'
import { ratioLines, section, target } from '../lib/table.js'
import { createTopic, type Bench } from './context.js'

const { ConfigResourceTypes } = kafkajs

/** One run's topic, its record count, and a group-name template (`*` = the contender's kind). */
interface DeliveryArg { topic: string, expected: number, tag: string }

function contenders (b: Bench, gw: GatewayProcess, bare: { read: BareConsumer, http: BareConsumer }): Array<DeliveryContender<DeliveryArg>> {
  const rx = b.receiver
  const common = (a: DeliveryArg, kind: string): { topic: string, expected: number, groupId: string, concurrency: number, stallMs: number } =>
    ({ topic: a.topic, expected: a.expected, groupId: `bench-deliver-${a.tag.replace('*', kind)}`, concurrency: DELIVERY_CONCURRENCY, stallMs: STALL_MS })
  const h = b.peers.kafkaHooks
  const bridge = b.bridge
  return [
    { key: 'gateway', name: 'gateway consumer group → webhook', run: async (a) => await gatewayDeliveryRun({ gateway: gw, receiver: rx, ...common(a, 'gw') }) },
    {
      key: 'gatewayBatched',
      name: `gateway, webhook batchSize ${DELIVERY_BATCH}`,
      run: async (a) => await gatewayDeliveryRun({ gateway: gw, receiver: rx, ...common(a, 'gwb'), batchSize: DELIVERY_BATCH })
    },
    { key: 'kafkajsBareRead', name: 'kafkajs bare consumer (read, no HTTP)', run: async (a) => await bareDeliveryRun({ bare: bare.read, brokers: b.brokerList, ...common(a, 'read') }) },
    { key: 'kafkajsUndiciHandWritten', name: 'kafkajs + undici, hand-written', run: async (a) => await bareDeliveryRun({ bare: bare.http, receiver: rx, brokers: b.brokerList, ...common(a, 'http') }) },
    { key: 'gatewayPull', name: 'gateway pull consumer', note: 'records/s polled + committed, no webhook', run: async (a) => await gatewayPullRun(gw, common(a, 'pull')) },
    h.available
      ? { key: 'kafkaHooks', name: hooksName(b.peers), warmUp: false, note: `concurrency ${DELIVERY_CONCURRENCY}, unordered`, run: async (a) => await hooksDeliveryRun(b, common(a, 'hooks')) }
      : { key: 'kafkaHooks', name: hooksName(b.peers), notRun: h.reason },
    bridge !== undefined
      ? { key: 'strimziPoll', name: `${strimziName(b.peers)} pull consumer`, note: 'records/s polled, no webhook', run: async (a) => await strimziPollRun(bridge.url, common(a, 'strimzi')) }
      : { key: 'strimziPoll', name: `${strimziName(b.peers)} pull consumer`, notRun: b.bridgeReason }
  ]
}

/** The delivery topic (filled once, read by every contender) and the warm-up topic. */
async function fill (b: Bench): Promise<{ topic: string, warmTopic: string }> {
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
  return { topic, warmTopic }
}

export async function deliveryRows (b: Bench, gw: GatewayProcess): Promise<void> {
  const { topic, warmTopic } = await fill(b)
  const bare = { read: startBareConsumer(), http: startBareConsumer() }
  const list = contenders(b, gw, bare)
  const m = await interleaveDelivery(list,
    { topic: warmTopic, expected: DELIVERY_WARMUP, tag: `warm-*-${b.suffix}` },
    (i) => ({ topic, expected: DELIVERY_MESSAGES, tag: `*-${b.suffix}-${i}` }),
    b.log
  ).finally(async () => {
    await bare.read.close()
    await bare.http.close()
  })
  const rRead = ratioTo(m, 'kafkajsBareRead')
  const rHttp = ratioTo(m, 'kafkajsUndiciHandWritten')
  const rBatchRead = ratioTo(m, 'kafkajsBareRead', 'gatewayBatched')
  const rHooks = ratioTo(m, 'kafkaHooks')
  const rPull = ratioTo(m, 'kafkajsBareRead', 'gatewayPull')
  b.targets.push(
    target('delivery: gateway ≥ 1.2× the hand-written kafkajs + undici pusher', rHttp, '≥ 1.20'),
    target('delivery: gateway ≥ 70% of the bare kafkajs consumer', rRead, '≥ 0.70'),
    target(`delivery: gateway with batchSize ${DELIVERY_BATCH} ≥ 70% of the bare kafkajs consumer`, rBatchRead, '≥ 0.70'),
    target('delivery: gateway ≥ 1.5× @platformatic/kafka-hooks', rHooks, '≥ 1.50', b.peers.kafkaHooks.available ? '' : b.peers.kafkaHooks.reason)
  )
  b.results.delivery = {
    messages: DELIVERY_MESSAGES,
    partitions: PARTITIONS,
    concurrency: DELIVERY_CONCURRENCY,
    receiver: 'bench/lib/receiver.ts answering 204, in the runner process',
    batchSize: DELIVERY_BATCH,
    ...contenderResults(list, m),
    ratioGatewayToBareRead: rRead,
    ratioGatewayToHandWritten: rHttp,
    ratioGatewayBatchedToBareRead: rBatchRead,
    ratioGatewayToKafkaHooks: rHooks,
    ratioGatewayToStrimziPoll: ratioTo(m, 'strimziPoll'),
    ratioGatewayPullToBareRead: rPull,
    ratioGatewayPullToStrimziPoll: ratioTo(m, 'strimziPoll', 'gatewayPull')
  }
  const gwMedian = m.get('gateway')?.median
  b.lines.push(
    section('delivery', `${DELIVERY_MESSAGES} records of ${MESSAGE_BYTES} B in ${PARTITIONS} partitions → receiver (204), concurrency ${DELIVERY_CONCURRENCY}; msg/s first to last delivery`, 'p50 f→2xx', 'p99 f→2xx'),
    ...contenderLines(list, m),
    ...ratioLines([
      ['gateway / bare kafkajs consumer', rRead, '≥ 0.70', repRatios(m, 'kafkajsBareRead')],
      ['gateway / kafkajs + undici', rHttp, '≥ 1.20', repRatios(m, 'kafkajsUndiciHandWritten')],
      [`gateway batchSize ${DELIVERY_BATCH} / bare kafkajs consumer`, rBatchRead, '≥ 0.70', repRatios(m, 'kafkajsBareRead', 'gatewayBatched')],
      [`gateway / ${hooksName(b.peers)}`, rHooks, '≥ 1.50', repRatios(m, 'kafkaHooks')],
      [`gateway / ${strimziName(b.peers)} pull consumer`, ratioTo(m, 'strimziPoll'), ''],
      ['gateway pull consumer / bare kafkajs consumer', rPull, ''],
      [`gateway pull consumer / ${strimziName(b.peers)} pull consumer`, ratioTo(m, 'strimziPoll', 'gatewayPull'), '']
    ])
  )
  if (gwMedian !== undefined && gwMedian.p99Ms === undefined) b.lines.push(`  gateway fetch-to-2xx: ${gwMedian.latencySource}`)
}
