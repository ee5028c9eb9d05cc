/** produce-batch: BATCH messages per POST /messages beside kafkajs `sendBatch`, Apache ProducerPerformance and the Strimzi bridge. */
import type { GatewayProcess } from '../../scripts/lib/launch/gateway.js'
import { runProducerPerformance, type ProducerPerformanceResult } from '../../scripts/lib/launch/producer-perf.js'
import { medianFigures, row } from '../lib/medians.js'
import { directBatchRun, gatewayProduceRun, strimziProduceRun, type Figures } from '../lib/produce-runs.js'
import { APACHE_WARMUP_RECORDS, BATCH, REPS, VALUE } from '../lib/run-settings.js'
import { CONNECTIONS, DURATION_S, MESSAGE_BYTES, WARMUP_S } from '../lib/settings.js'
import { figRow, fmt, notRunRow, ratioRow, section, writtenRow } from '../lib/table.js'
import { median } from '../lib/util.js'
import { createTopic, recordsWritten, type Bench } from './context.js'

interface Reps { gateway: Figures[], direct: Figures[], apache: ProducerPerformanceResult[], strimzi: Figures[], acknowledged: number, apacheRecords: number }

/** Warm-up, then REPS repetitions with the contenders interleaved. */
async function measure (b: Bench, gw: GatewayProcess): Promise<Reps> {
  const { suffix, producer, bridge, log } = b
  const brokers = b.services.brokers
  log(`\n## produce-batch (${BATCH} messages per request) — warm-up`)
  const tGw = await createTopic(b, `bench-batch-gw-${suffix}`)
  const tDirect = await createTopic(b, `bench-batch-direct-${suffix}`)
  const tApache = await createTopic(b, `bench-batch-apache-${suffix}`)
  const tStrimzi = bridge !== undefined ? await createTopic(b, `bench-batch-strimzi-${suffix}`) : ''
  const gatewayRun = async (seconds: number): ReturnType<typeof gatewayProduceRun> =>
    await gatewayProduceRun({ url: gw.url, topic: tGw, seconds, connections: CONNECTIONS, value: VALUE, messagesPerRequest: BATCH })
  const strimziRun = async (seconds: number): Promise<Figures> =>
    await strimziProduceRun({ url: bridge?.url ?? '', topic: tStrimzi, seconds, connections: CONNECTIONS, value: VALUE, messagesPerRequest: BATCH })
  const apacheRun = async (records: number): Promise<ProducerPerformanceResult> =>
    await runProducerPerformance({ bootstrap: brokers, topic: tApache, records, recordSize: MESSAGE_BYTES, acks: -1 })
  let acknowledged = (await gatewayRun(WARMUP_S)).figures.messages
  await directBatchRun(producer, tDirect, WARMUP_S, CONNECTIONS, VALUE, BATCH)
  if (bridge !== undefined) await strimziRun(WARMUP_S)
  const apacheWarm = await apacheRun(APACHE_WARMUP_RECORDS)
  // ProducerPerformance sends a number of records, not for a time: size its runs to last about BENCH_DURATION
  const apacheRecords = Math.max(10_000, Math.round(apacheWarm.recordsPerSec * DURATION_S))
  log(`# ProducerPerformance warm-up: ${apacheWarm.recordsPerSec.toFixed(0)} records/s; measured runs send ${apacheRecords} records each`)
  const reps: Reps = { gateway: [], direct: [], apache: [], strimzi: [], acknowledged: 0, apacheRecords }
  for (let i = 1; i <= REPS; i++) {
    const g = await gatewayRun(DURATION_S)
    acknowledged += g.figures.messages
    reps.gateway.push(g.figures)
    const d = await directBatchRun(producer, tDirect, DURATION_S, CONNECTIONS, VALUE, BATCH)
    reps.direct.push(d)
    const a = await apacheRun(apacheRecords)
    reps.apache.push({ ...a, raw: '' })
    log(`# rep ${i}: gateway ${g.figures.messagesPerSec.toFixed(0)} msg/s, kafkajs sendBatch ${d.messagesPerSec.toFixed(0)} msg/s, ` +
      `ProducerPerformance ${a.recordsPerSec.toFixed(0)} records/s`)
    if (bridge !== undefined) reps.strimzi.push(await strimziRun(DURATION_S))
  }
  reps.acknowledged = acknowledged
  return reps
}

export async function produceBatchRow (b: Bench, gw: GatewayProcess): Promise<void> {
  const reps = await measure(b, gw)
  const gwRow = row(reps.gateway, medianFigures)
  const directRow = row(reps.direct, medianFigures)
  const apacheMedian = {
    recordsPerSec: median(reps.apache.map(a => a.recordsPerSec)),
    p50Ms: median(reps.apache.map(a => a.p50Ms)),
    p99Ms: median(reps.apache.map(a => a.p99Ms)),
    records: reps.apacheRecords
  }
  const ratioApache = gwRow.median.messagesPerSec / apacheMedian.recordsPerSec
  const ratioDirect = gwRow.median.messagesPerSec / directRow.median.messagesPerSec
  b.targets.push({ what: 'produce-batch: gateway ≥ 50% of Apache ProducerPerformance', ratio: ratioApache, goal: '≥ 0.50', met: ratioApache >= 0.5 })
  const strimziRow = reps.strimzi.length > 0 ? row(reps.strimzi, medianFigures) : undefined
  b.targets.push(strimziRow !== undefined
    ? { what: 'produce: gateway ahead of the peer gateway (Strimzi, batch)', ratio: gwRow.median.messagesPerSec / strimziRow.median.messagesPerSec, goal: '> 1.00', met: gwRow.median.messagesPerSec > strimziRow.median.messagesPerSec }
    : { what: `produce: gateway ahead of the peer gateway (Strimzi) — not run: ${b.peerReason}`, ratio: undefined, goal: '> 1.00', met: undefined })
  const written = await recordsWritten(b, `bench-batch-gw-${b.suffix}`)
  b.results.produceBatch = {
    gatewayTopicCheck: { recordsWritten: written, acknowledged2xx: reps.acknowledged },
    messagesPerRequest: BATCH,
    gateway: gwRow,
    kafkajsSendBatch: directRow,
    apacheProducerPerformance: {
      settings: { acks: -1, 'batch.size': '16384 (Kafka 3.9 default)', 'linger.ms': '0 (Kafka 3.9 default)', recordSize: MESSAGE_BYTES, throughput: -1, recordsPerRun: reps.apacheRecords },
      reps: reps.apache,
      median: apacheMedian
    },
    strimziBridge: strimziRow ?? { notRun: b.peerReason },
    ratioGatewayToApache: +ratioApache.toFixed(3),
    ratioGatewayToKafkajs: +ratioDirect.toFixed(3)
  }
  b.lines.push(
    section('produce-batch', `${BATCH} messages of ${MESSAGE_BYTES} B per request, ${CONNECTIONS} connections / requests in flight, acks -1 everywhere`),
    figRow(`gateway POST /messages ×${BATCH}`, gwRow.median),
    figRow(`kafkajs sendBatch ×${BATCH}`, directRow.median),
    `  ${'Apache ProducerPerformance (acks=-1)'.padEnd(40)} ${fmt(apacheMedian.recordsPerSec, 0, 10)} ${fmt(apacheMedian.p50Ms, 2, 9)} ${fmt(apacheMedian.p99Ms, 2, 9)}   per record at saturation`,
    strimziRow !== undefined ? figRow(`Strimzi bridge ${b.strimzi.version} ×${BATCH}`, strimziRow.median) : notRunRow(`Strimzi bridge ${b.strimzi.version}`, b.peerReason),
    ratioRow('gateway / ProducerPerformance', ratioApache, '≥ 0.50'),
    ratioRow('gateway / kafkajs sendBatch', ratioDirect, ''),
    writtenRow(written, reps.acknowledged, BATCH)
  )
  if (strimziRow !== undefined) b.lines.push(ratioRow('gateway / Strimzi bridge', gwRow.median.messagesPerSec / strimziRow.median.messagesPerSec, '> 1.00'))
}
