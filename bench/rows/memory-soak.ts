/**
 * memory-soak (issue 14): a fresh gateway under produce-single load for BENCH_SOAK_SECONDS (600), its RSS
 * sampled every second and its heap (prom-client's `gateway_nodejs_heap_size_used_bytes`) every 10 s; the
 * first minute is warm-up. Growth = least-squares slope and last-minute/first-minute medians (bench/lib/growth.ts).
 * Only when BENCH_ONLY names it: it is not part of a full run (10 minutes more).
 */
import type { GatewayProcess } from '../../scripts/lib/launch/gateway.js'
import { growthOf, type Growth, type Sample } from '../lib/growth.js'
import { gatewayProduceRun } from '../lib/produce-runs.js'
import { SOAK_S, VALUE } from '../lib/run-settings.js'
import { sampleRss } from '../lib/rss.js'
import { CONNECTIONS } from '../lib/settings.js'
import { section, target } from '../lib/table.js'
import { MIB } from '../lib/util.js'
import { createTopic, launchGateway, type Bench } from './context.js'

const WARMUP_S = 60
const WINDOW_S = 60

async function heapUsed (gw: GatewayProcess): Promise<number | undefined> {
  const text = await fetch(`${gw.url}/metrics`).then(async r => await r.text()).catch(() => '')
  const m = /^gateway_nodejs_heap_size_used_bytes (\d+(?:\.\d+)?)/m.exec(text)
  return m === null ? undefined : Number(m[1])
}

/** Samples the gateway's heap every 10 s until stopped. */
function sampleHeap (gw: GatewayProcess, t0: number): { stop: () => Sample[] } {
  const samples: Sample[] = []
  const timer = setInterval(() => {
    const atS = (performance.now() - t0) / 1000
    heapUsed(gw).then(bytes => { if (bytes !== undefined) samples.push({ atS, bytes }) }, () => undefined)
  }, 10_000)
  return { stop: () => { clearInterval(timer); return samples.sort((a, b) => a.atS - b.atS) } }
}

const mib = (n: number): string => `${(n / MIB).toFixed(1)} MiB`
const growthLine = (name: string, g: Growth): string =>
  `  ${name.padEnd(40)} first minute ${mib(g.firstWindowBytes)}, last minute ${mib(g.lastWindowBytes)} (×${g.lastToFirst.toFixed(2)}), slope ${(g.slopeBytesPerMin / MIB).toFixed(2)} MiB/min over ${g.samples} samples`

export async function memorySoakRow (b: Bench): Promise<void> {
  b.log(`\n## memory-soak — a fresh gateway under produce-single load for ${SOAK_S} s, RSS every second`)
  const topic = await createTopic(b, `bench-soak-${b.suffix}`)
  const gw = b.gateway = await launchGateway(b)
  const t0 = performance.now()
  const rss = sampleRss(gw.pid, 1000)
  const heap = sampleHeap(gw, t0)
  const run = await gatewayProduceRun({ url: gw.url, topic, seconds: SOAK_S, connections: CONNECTIONS, value: VALUE })
  const heapSamples = heap.stop()
  const rssSamples: Sample[] = rss.stop().samples.map((bytes, i) => ({ atS: i, bytes }))
  await gw.stop()
  b.gateway = undefined
  const rssGrowth = growthOf(rssSamples, WARMUP_S, WINDOW_S)
  const heapGrowth = heapSamples.length > 0 ? growthOf(heapSamples, WARMUP_S, WINDOW_S) : undefined
  b.log(`# ${run.figures.messages} messages at ${run.figures.messagesPerSec.toFixed(0)} msg/s; RSS ×${rssGrowth.lastToFirst.toFixed(2)}, ${(rssGrowth.slopeBytesPerMin / MIB).toFixed(2)} MiB/min`)
  // "no growth": the last minute's median RSS within 10 % of the first minute's (after the warm-up)
  b.targets.push(target(`memory-soak: RSS last minute / first minute over ${SOAK_S} s of produce-single`, rssGrowth.lastToFirst, '≤ 1.10'))
  b.results.memorySoak = {
    seconds: SOAK_S,
    warmupS: WARMUP_S,
    windowS: WINDOW_S,
    load: run.figures,
    rss: rssGrowth,
    heapUsed: heapGrowth ?? { notRun: 'no heap samples from /metrics' },
    rssSamplesBytes: rssSamples.map(s => s.bytes)
  }
  b.lines.push(
    section('memory-soak', `produce-single (${CONNECTIONS} connections) for ${SOAK_S} s, ${run.figures.messagesPerSec.toFixed(0)} msg/s; first ${WARMUP_S} s left out`, '', '', ''),
    growthLine('RSS (VmRSS, every second)', rssGrowth),
    ...(heapGrowth !== undefined ? [growthLine('heap used (every 10 s)', heapGrowth)] : [])
  )
}
