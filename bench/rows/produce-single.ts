/** produce-single: 1 message per POST /messages beside kafkajs `send` (same concurrency) and the Strimzi bridge. */
import type { GatewayProcess } from '../../scripts/lib/launch/gateway.js'
import { medianFigures, row } from '../lib/medians.js'
import { directSingleRun, gatewayProduceRun, strimziProduceRun, type Figures } from '../lib/produce-runs.js'
import { REPS, VALUE } from '../lib/run-settings.js'
import { sampleRss } from '../lib/rss.js'
import { CONNECTIONS, DURATION_S, MESSAGE_BYTES, WARMUP_S } from '../lib/settings.js'
import { figRow, notRunRow, ratioRow, section, writtenRow } from '../lib/table.js'
import { median, MIB } from '../lib/util.js'
import { createTopic, recordsWritten, type Bench } from './context.js'

export async function produceSingleRow (b: Bench, gw: GatewayProcess): Promise<void> {
  const { suffix, producer, bridge, log } = b
  log('\n## produce-single — warm-up')
  // one topic per contender, warm-up and repetitions alike (size-capped by TOPIC_CONFIG)
  const tGw = await createTopic(b, `bench-single-gw-${suffix}`)
  const tDirect = await createTopic(b, `bench-single-direct-${suffix}`)
  const tStrimzi = bridge !== undefined ? await createTopic(b, `bench-single-strimzi-${suffix}`) : ''
  const gatewayRun = async (seconds: number): ReturnType<typeof gatewayProduceRun> =>
    await gatewayProduceRun({ url: gw.url, topic: tGw, seconds, connections: CONNECTIONS, value: VALUE })
  const strimziRun = async (seconds: number): Promise<Figures> =>
    await strimziProduceRun({ url: bridge?.url ?? '', topic: tStrimzi, seconds, connections: CONNECTIONS, value: VALUE })
  let acknowledged = (await gatewayRun(WARMUP_S)).figures.messages
  await directSingleRun(producer, tDirect, WARMUP_S, CONNECTIONS, VALUE)
  if (bridge !== undefined) await strimziRun(WARMUP_S)
  const gwReps: Figures[] = []
  const directReps: Figures[] = []
  const strimziReps: Figures[] = []
  const rssPeaks: number[] = []
  for (let i = 1; i <= REPS; i++) {
    const sampler = sampleRss(gw.pid)
    const g = await gatewayRun(DURATION_S)
    acknowledged += g.figures.messages
    const peak = sampler.stop().peakBytes
    rssPeaks.push(peak)
    gwReps.push(g.figures)
    const d = await directSingleRun(producer, tDirect, DURATION_S, CONNECTIONS, VALUE)
    directReps.push(d)
    log(`# rep ${i}: gateway ${g.figures.messagesPerSec.toFixed(0)} msg/s (p99 ${g.figures.p99Ms.toFixed(1)} ms, peak RSS ${(peak / MIB).toFixed(0)} MiB), ` +
      `kafkajs ${d.messagesPerSec.toFixed(0)} msg/s (p99 ${d.p99Ms.toFixed(1)} ms)`)
    if (bridge !== undefined) strimziReps.push(await strimziRun(DURATION_S))
  }
  const gwRow = row(gwReps, medianFigures)
  const directRow = row(directReps, medianFigures)
  const ratio = gwRow.median.messagesPerSec / directRow.median.messagesPerSec
  b.targets.push({ what: 'produce-single: gateway ≥ kafkajs direct (same concurrency)', ratio, goal: '≥ 1.00', met: ratio >= 1 })
  const strimziRow = strimziReps.length > 0 ? row(strimziReps, medianFigures) : undefined
  const written = await recordsWritten(b, tGw)
  b.results.produceSingle = {
    gatewayTopicCheck: { recordsWritten: written, acknowledged2xx: acknowledged },
    gateway: gwRow,
    kafkajsDirect: directRow,
    strimziBridge: strimziRow ?? { notRun: b.peerReason },
    ratioGatewayToDirect: +ratio.toFixed(3),
    perRepRatios: gwReps.map((g, i) => +(g.messagesPerSec / (directReps[i]?.messagesPerSec ?? NaN)).toFixed(3)),
    gatewayPeakRssBytes: { reps: rssPeaks, median: median(rssPeaks) }
  }
  const strimziName = `Strimzi bridge ${b.strimzi.version}`
  b.lines.push(
    section('produce-single', `1 message of ${MESSAGE_BYTES} B per request, ${CONNECTIONS} connections / sends in flight, acks -1`),
    figRow('gateway POST /messages', gwRow.median),
    figRow('kafkajs direct send', directRow.median),
    strimziRow !== undefined ? figRow(strimziName, strimziRow.median) : notRunRow(strimziName, b.peerReason),
    ratioRow('gateway / kafkajs direct', ratio, '≥ 1.00'),
    writtenRow(written, acknowledged, 1)
  )
  if (strimziRow !== undefined) b.lines.push(ratioRow('gateway / Strimzi bridge', gwRow.median.messagesPerSec / strimziRow.median.messagesPerSec, '> 1.00'))
}
