/**
 * produce-single: 1 message per POST /messages beside the direct clients at the same concurrency (kafkajs
 * `send`, @platformatic/kafka `send`) and the peers' produce APIs (Strimzi bridge, kafka-hooks' route).
 */
import type { GatewayProcess } from '../../scripts/lib/launch/gateway.js'
import { contenderLines, contenderResults, interleaveProduce, ratioTo, repRatios, type ProduceContender } from '../lib/contenders.js'
import { hooksContender, platformaticContender, strimziContender, withHooksForProduce } from '../lib/peer-contenders.js'
import { hooksName, platformaticName, strimziName } from '../lib/peers.js'
import { directSingleRun, gatewayProduceRun } from '../lib/produce-runs.js'
import { VALUE } from '../lib/run-settings.js'
import { sampleRss } from '../lib/rss.js'
import { CONNECTIONS, DURATION_S, MESSAGE_BYTES, WARMUP_S } from '../lib/settings.js'
import { ratioLines, section, target, writtenRow } from '../lib/table.js'
import { median } from '../lib/util.js'
import { plainGatewayContender } from '../lib/plain-gateway.js'
import { createTopic, recordsWritten, type Bench } from './context.js'

/** What the gateway's runs add up: 2xx acknowledged (warm-up included, for the topic check) and RSS peaks. */
interface GatewayTally { acknowledged: number, rssPeaks: number[] }

function gatewayContender (gw: GatewayProcess, topic: string, tally: GatewayTally): ProduceContender {
  return {
    key: 'gateway',
    name: 'gateway POST /messages',
    run: async (seconds, warmUp) => {
      const sampler = sampleRss(gw.pid)
      const g = await gatewayProduceRun({ url: gw.url, topic, seconds, connections: CONNECTIONS, value: VALUE })
      const peak = sampler.stop().peakBytes
      if (!warmUp) tally.rssPeaks.push(peak)
      tally.acknowledged += g.figures.messages
      return g.figures
    }
  }
}

export async function produceSingleRow (b: Bench, gw: GatewayProcess): Promise<void> {
  const { suffix, producer, log } = b
  log('\n## produce-single — warm-up, then the repetitions')
  // one topic per contender, warm-up and repetitions alike (size-capped by TOPIC_CONFIG)
  const tGw = await createTopic(b, `bench-single-gw-${suffix}`)
  const tDirect = await createTopic(b, `bench-single-direct-${suffix}`)
  const tally: GatewayTally = { acknowledged: 0, rssPeaks: [] }
  const hooks = await hooksContender(b, `bench-single-hooks-${suffix}`)
  const plain = plainGatewayContender(b, await createTopic(b, `bench-single-plain-${suffix}`))
  const contenders: ProduceContender[] = [
    gatewayContender(gw, tGw, tally),
    plain.contender,
    { key: 'kafkajsDirect', name: 'kafkajs direct send', run: async (seconds) => await directSingleRun(producer, tDirect, seconds, CONNECTIONS, VALUE) },
    await platformaticContender(b, `bench-single-platformatic-${suffix}`, 1),
    await strimziContender(b, `bench-single-strimzi-${suffix}`, 1),
    hooks.contender
  ]
  const m = await withHooksForProduce(b, hooks, async () => await interleaveProduce(contenders, WARMUP_S, DURATION_S, log)).finally(plain.close)
  const ratio = (key: string): number | undefined => ratioTo(m, key)
  const rDirect = ratio('kafkajsDirect')
  const rStrimzi = ratio('strimziBridge')
  b.targets.push(
    target('produce-single: gateway ≥ kafkajs direct (same concurrency)', rDirect, '≥ 1.00'),
    target('produce-single: gateway ≥ 3× the Strimzi bridge', rStrimzi, '≥ 3.00', b.bridgeReason)
  )
  const written = await recordsWritten(b, tGw)
  b.results.produceSingle = {
    gatewayTopicCheck: { recordsWritten: written, acknowledged2xx: tally.acknowledged },
    ...contenderResults(contenders, m),
    ratioGatewayToDirect: rDirect,
    ratioIdempotentToNot: ratio('gatewayNotIdempotent'),
    ratioGatewayToPlatformaticKafka: ratio('platformaticKafka'),
    ratioGatewayToStrimzi: rStrimzi,
    ratioGatewayToKafkaHooks: ratio('kafkaHooks'),
    gatewayPeakRssBytes: { reps: tally.rssPeaks, median: median(tally.rssPeaks) }
  }
  b.lines.push(
    section('produce-single', `1 message of ${MESSAGE_BYTES} B per request, ${CONNECTIONS} connections / sends in flight, acks -1`),
    ...contenderLines(contenders, m),
    ...ratioLines([
      ['gateway / kafkajs direct', rDirect, '≥ 1.00', repRatios(m, 'kafkajsDirect')],
      ['gateway (idempotent) / PRODUCE_IDEMPOTENT=false', ratio('gatewayNotIdempotent'), ''],
      [`gateway / ${platformaticName(b.peers)}`, ratio('platformaticKafka'), ''],
      [`gateway / ${strimziName(b.peers)}`, rStrimzi, '≥ 3.00', repRatios(m, 'strimziBridge')],
      [`gateway / ${hooksName(b.peers)}`, ratio('kafkaHooks'), '']
    ]),
    writtenRow(written, tally.acknowledged, 1)
  )
}
