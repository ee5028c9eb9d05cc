/**
 * `npm run bench`: the gateway side by side with references measured in the same run, on the same
 * broker, reported as ratios (issue 7). See bench/README.md for what each row means.
 *
 *   npm run bench                                                        # full run (3 × 30 s per row...)
 *   BENCH_DURATION=5 BENCH_REPS=1 BENCH_DELIVERY_MESSAGES=20000 npm run bench   # smoke run
 *
 * Sections (BENCH_ONLY=produce-single,produce-batch,delivery,latency,memory to run some; memory-soak only when named):
 * 1. produce-single: 1 KiB single-message POST /messages, 64 connections — beside kafkajs and
 *    @platformatic/kafka sends, 64 in flight, the Strimzi bridge and kafka-hooks' produce route.
 * 2. produce-batch: 100 messages per POST, 64 connections — beside kafkajs sendBatch and @platformatic/kafka
 *    send of 100 (64 in flight), Apache Kafka's ProducerPerformance (acks=-1) and the Strimzi bridge.
 * 3. delivery: a pre-filled 6-partition topic delivered by a gateway consumer group (fromBeginning,
 *    concurrency 6) to a local receiver answering 204 — beside a bare kafkajs consumer (read only), a
 *    hand-written kafkajs + undici pusher and kafka-hooks to the same receiver, and the Strimzi bridge's
 *    pull consumer.
 * 4. latency: produce-ack → webhook-received percentiles at 50% of the delivery maximum.
 * 5. memory: gateway RSS at idle, under produce-single load (peak), with 50 and with 500 consumer groups.
 * 6. memory-soak (BENCH_ONLY=memory-soak): RSS and heap growth over BENCH_SOAK_SECONDS (600) of produce-single load.
 * The peers (Strimzi bridge, kafka-hooks, @platformatic/kafka) are installed outside the project and found
 * through the environment (bench/README.md); a missing one makes its rows read `not run: <why>`.
 * Each measured row: warm-up first (excluded), BENCH_REPS repetitions interleaved across contenders, median reported.
 * The load generator (autocannon) and the kafkajs references run in processes of their own; the gateway
 * is built (tsc) and run as `node dist/src/server.js`.
 *
 * Writes bench/results/latest.json. Env: see bench/README.md.
 */
import { buildGateway } from '../scripts/lib/launch/gateway-build.js'
import type { Services } from '../scripts/lib/launch/services.js'
import { loadAverage } from './lib/machine.js'
import { writeResults } from './lib/results.js'
import { REPS, runs, SKIP_BUILD, type Section } from './lib/run-settings.js'
import { startBenchServices } from './lib/services.js'
import { CONNECTIONS, DURATION_S, MESSAGE_BYTES, MODE, PARTITIONS, WARMUP_S } from './lib/settings.js'
import { closeBench, launchGateway, openBench, startBridge, type Bench } from './rows/context.js'
import { deliveryRows } from './rows/delivery.js'
import { memoryRows } from './rows/memory.js'
import { memorySoakRow } from './rows/memory-soak.js'
import { peerLines } from './lib/peers.js'
import { latencyRow } from './rows/latency.js'
import { produceBatchRow } from './rows/produce-batch.js'
import { produceSingleRow } from './rows/produce-single.js'

const log = (line: string): void => { console.log(line) }

/** What main started, for stopping it at the end, on error and on Ctrl-C. */
const started: { services: Services | undefined, bench: Bench | undefined } = { services: undefined, bench: undefined }

async function stopAll (): Promise<void> {
  if (started.bench !== undefined) await closeBench(started.bench)
  await started.services?.stop().catch(() => undefined)
}

/** Runs one section when BENCH_ONLY includes it, and records how long it took. */
async function section (name: Section, seconds: Record<string, number>, run: () => Promise<void>): Promise<void> {
  if (!runs(name)) return
  const t0 = performance.now()
  await run()
  const s = (performance.now() - t0) / 1000
  seconds[name] = +s.toFixed(1)
  log(`# ${name} took ${s.toFixed(0)} s`)
}

/** tsc into dist/ unless the gateway runs through tsx or BENCH_SKIP_BUILD=1; returns tsc's type errors, if any. */
async function build (): Promise<string | undefined> {
  if (MODE !== 'build' || SKIP_BUILD) return undefined
  log('# building the gateway (tsc -p tsconfig.build.json → dist/)')
  const { typeErrors } = await buildGateway()
  if (typeErrors !== undefined) console.error(`# WARNING: the gateway build has type errors (JavaScript was emitted and is what runs):\n${typeErrors}`)
  return typeErrors
}

async function main (): Promise<void> {
  const startedAt = new Date()
  const loadStart = loadAverage()
  const sectionSeconds: Record<string, number> = {}
  const buildTypeErrors = await build()
  const services = started.services = await startBenchServices(log)
  const b = started.bench = await openBench(services, log)
  log(`# broker ${services.brokers} (${services.broker.source}); redis ${services.redisUrl} (${services.redis.source}); ` +
    `${REPS} × ${DURATION_S} s per row after ${WARMUP_S} s of warm-up; ${CONNECTIONS} connections; ${MESSAGE_BYTES} B values; ${PARTITIONS} partitions`)
  for (const line of peerLines(b.peers)) log(line)

  const withBridge = runs('produce-single') || runs('produce-batch') || runs('delivery')
  if (withBridge || runs('latency')) {
    const gw = b.gateway = await launchGateway(b)
    log(`# gateway ${gw.url} (pid ${String(gw.pid)}, ${MODE === 'build' ? 'node dist/src/server.js' : 'tsx src/server.ts'})`)
  }
  // the bridge serves the produce rows and the delivery row's pull-consumer reference
  if (withBridge) await startBridge(b)
  const gw = b.gateway
  if (gw !== undefined) {
    await section('produce-single', sectionSeconds, () => produceSingleRow(b, gw))
    await section('produce-batch', sectionSeconds, () => produceBatchRow(b, gw))
    await b.platformatic?.close()
    b.platformatic = undefined
    await section('delivery', sectionSeconds, () => deliveryRows(b, gw))
    await b.bridge?.stop()
    b.bridge = undefined
    await section('latency', sectionSeconds, () => latencyRow(b, gw))
    await gw.stop()
    b.gateway = undefined
  }
  await section('memory', sectionSeconds, () => memoryRows(b))
  await section('memory-soak', sectionSeconds, () => memorySoakRow(b))
  writeResults(b, { startedAt, loadStart, sectionSeconds, buildTypeErrors })
}

const interrupted = { yes: false }
process.once('SIGINT', () => {
  interrupted.yes = true
  console.error('# SIGINT: stopping everything')
  void stopAll().finally(() => process.exit(130))
})

main().finally(async () => { if (!interrupted.yes) await stopAll() }).then(() => process.exit(0), (err: unknown) => {
  console.error(err)
  process.exit(1)
})
