/**
 * produce-batch: BATCH messages per POST /messages beside kafkajs `sendBatch`, @platformatic/kafka `send`
 * of BATCH records, Apache ProducerPerformance and the Strimzi bridge (BATCH records per request).
 */
import type { GatewayProcess } from '../../scripts/lib/launch/gateway.js'
import { runProducerPerformance } from '../../scripts/lib/launch/producer-perf.js'
import { contenderLines, contenderResults, interleaveProduce, ratioTo, repRatios, type ProduceContender } from '../lib/contenders.js'
import { platformaticContender, strimziContender } from '../lib/peer-contenders.js'
import { hooksName, platformaticName, strimziName } from '../lib/peers.js'
import { directBatchRun, gatewayProduceRun, type Figures } from '../lib/produce-runs.js'
import { APACHE_WARMUP_RECORDS, BATCH, VALUE } from '../lib/run-settings.js'
import { CONNECTIONS, DURATION_S, MESSAGE_BYTES, WARMUP_S } from '../lib/settings.js'
import { ratioLines, section, target, writtenRow } from '../lib/table.js'
import { plainGatewayContender } from '../lib/plain-gateway.js'
import { createTopic, recordsWritten, type Bench } from './context.js'

/**
 * ProducerPerformance sends a number of records, not for a time: the warm-up run measures its rate and
 * sizes the measured runs to last about BENCH_DURATION.
 */
function apacheContender (b: Bench, topic: string, sizing: { records: number }): ProduceContender {
  return {
    key: 'apacheProducerPerformance',
    name: 'Apache ProducerPerformance (acks=-1)',
    note: 'per record at saturation',
    run: async (_seconds, warmUp): Promise<Figures> => {
      const records = warmUp ? APACHE_WARMUP_RECORDS : sizing.records
      const a = await runProducerPerformance({ bootstrap: b.services.brokers, topic, records, recordSize: MESSAGE_BYTES, acks: -1 })
      if (warmUp) {
        sizing.records = Math.max(10_000, Math.round(a.recordsPerSec * DURATION_S))
        b.log(`# ProducerPerformance warm-up: ${a.recordsPerSec.toFixed(0)} records/s; measured runs send ${sizing.records} records each`)
      }
      return { messagesPerSec: a.recordsPerSec, p50Ms: a.p50Ms, p99Ms: a.p99Ms, messages: a.records, failures: 0, durationS: a.records / a.recordsPerSec }
    }
  }
}

export async function produceBatchRow (b: Bench, gw: GatewayProcess): Promise<void> {
  const { suffix, producer, log } = b
  log(`\n## produce-batch (${BATCH} messages per request) — warm-up, then the repetitions`)
  const tGw = await createTopic(b, `bench-batch-gw-${suffix}`)
  const tDirect = await createTopic(b, `bench-batch-direct-${suffix}`)
  const tApache = await createTopic(b, `bench-batch-apache-${suffix}`)
  const tally = { acknowledged: 0 }
  const sizing = { records: APACHE_WARMUP_RECORDS }
  const plain = plainGatewayContender(b, await createTopic(b, `bench-batch-plain-${suffix}`), BATCH)
  const contenders: ProduceContender[] = [
    {
      key: 'gateway',
      name: `gateway POST /messages ×${BATCH}`,
      run: async (seconds) => {
        const g = await gatewayProduceRun({ url: gw.url, topic: tGw, seconds, connections: CONNECTIONS, value: VALUE, messagesPerRequest: BATCH })
        tally.acknowledged += g.figures.messages
        return g.figures
      }
    },
    plain.contender,
    { key: 'kafkajsSendBatch', name: `kafkajs sendBatch ×${BATCH}`, run: async (seconds) => await directBatchRun(producer, tDirect, seconds, CONNECTIONS, VALUE, BATCH) },
    await platformaticContender(b, `bench-batch-platformatic-${suffix}`, BATCH),
    apacheContender(b, tApache, sizing),
    await strimziContender(b, `bench-batch-strimzi-${suffix}`, BATCH),
    { key: 'kafkaHooks', name: hooksName(b.peers), notRun: 'no batch form: its route takes one record per request (see produce-single)' }
  ]
  const m = await interleaveProduce(contenders, WARMUP_S, DURATION_S, log).finally(plain.close)
  const rApache = ratioTo(m, 'apacheProducerPerformance')
  const rDirect = ratioTo(m, 'kafkajsSendBatch')
  const rStrimzi = ratioTo(m, 'strimziBridge')
  b.targets.push(
    target('produce-batch: gateway ≥ 50% of Apache ProducerPerformance', rApache, '≥ 0.50'),
    target('produce-batch: gateway ≥ 3× the Strimzi bridge', rStrimzi, '≥ 3.00', b.bridgeReason)
  )
  const written = await recordsWritten(b, tGw)
  b.results.produceBatch = {
    gatewayTopicCheck: { recordsWritten: written, acknowledged2xx: tally.acknowledged },
    messagesPerRequest: BATCH,
    ...contenderResults(contenders, m),
    apacheProducerPerformanceSettings: { acks: -1, 'batch.size': '16384 (Kafka 3.9 default)', 'linger.ms': '0 (Kafka 3.9 default)', recordSize: MESSAGE_BYTES, throughput: -1, recordsPerRun: sizing.records },
    ratioGatewayToApache: rApache,
    ratioGatewayToKafkajs: rDirect,
    ratioIdempotentToNot: ratioTo(m, 'gatewayNotIdempotent'),
    ratioGatewayToPlatformaticKafka: ratioTo(m, 'platformaticKafka'),
    ratioGatewayToStrimzi: rStrimzi
  }
  b.lines.push(
    section('produce-batch', `${BATCH} messages of ${MESSAGE_BYTES} B per request, ${CONNECTIONS} connections / requests in flight, acks -1 everywhere`),
    ...contenderLines(contenders, m),
    ...ratioLines([
      ['gateway / ProducerPerformance', rApache, '≥ 0.50', repRatios(m, 'apacheProducerPerformance')],
      ['gateway / kafkajs sendBatch', rDirect, ''],
      ['gateway (idempotent) / PRODUCE_IDEMPOTENT=false', ratioTo(m, 'gatewayNotIdempotent'), ''],
      [`gateway / ${platformaticName(b.peers)}`, ratioTo(m, 'platformaticKafka'), ''],
      [`gateway / ${strimziName(b.peers)}`, rStrimzi, '≥ 3.00', repRatios(m, 'strimziBridge')]
    ]),
    writtenRow(written, tally.acknowledged, BATCH)
  )
}
