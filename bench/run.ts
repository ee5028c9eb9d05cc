/**
 * `npm run bench`: the gateway side by side with references measured in the same run, on the same
 * broker, reported as ratios (issue 7). See bench/README.md for what each row means.
 *
 *   npm run bench                                                        # full run (3 × 30 s per row...)
 *   BENCH_DURATION=5 BENCH_REPS=1 BENCH_DELIVERY_MESSAGES=20000 npm run bench   # smoke run
 *
 * Sections (BENCH_ONLY=produce-single,produce-batch,delivery,memory to run some):
 * 1. produce-single: 1 KiB single-message POST /messages, 64 connections — beside kafkajs send, 64 in flight.
 * 2. produce-batch: 100 messages per POST, 64 connections — beside kafkajs sendBatch of 100 (64 in flight)
 *    and Apache Kafka's ProducerPerformance (acks=-1, the gateway's default); the Strimzi bridge when it can run.
 * 3. delivery: a pre-filled 6-partition topic delivered by a gateway consumer group (fromBeginning,
 *    concurrency 6) to a local receiver answering 204 — beside a bare kafkajs consumer (read only) and a
 *    hand-written kafkajs + undici pusher to the same receiver.
 * 4. memory: gateway RSS at idle, under produce-single load (peak), and with 50 consumer groups joined.
 * Each measured row: warm-up first (excluded), BENCH_REPS repetitions interleaved across contenders, median reported.
 * The load generator (autocannon) and the kafkajs references run in processes of their own; the gateway
 * is built (tsc) and run as `node dist/src/server.js`.
 *
 * Writes bench/results/latest.json. Env: see bench/README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import kafkajs from 'kafkajs'
import { autocannonInChild } from '../scripts/lib/launch/autocannon.js'
import { startGateway, type GatewayProcess } from '../scripts/lib/launch/gateway.js'
import { buildGateway } from '../scripts/lib/launch/gateway-build.js'
import { runProducerPerformance, type ProducerPerformanceResult } from '../scripts/lib/launch/producer-perf.js'
import type { Services } from '../scripts/lib/launch/services.js'
import { probeStrimziBridge } from '../scripts/lib/launch/strimzi-jars.js'
import { startStrimziBridge, strimziProduceRequest, type StrimziBridge } from '../scripts/lib/launch/strimzi-bridge.js'
import { bareDeliveryRun, defineGroups, fillTopic, gatewayDeliveryRun, groupDefinitions, registryTopics, startBareConsumer, type DeliveryFigures } from './lib/delivery.js'
import { sampleRss } from './lib/rss.js'
import { loadAverage, machineInfo } from './lib/machine.js'
import { benchValue, directBatchRun, directSingleRun, gatewayProduceRun, statusCounts, type Figures } from './lib/produce-runs.js'
import { startBenchReceiver, type BenchReceiver } from './lib/receiver.js'
import { CONNECTIONS, DURATION_S, MESSAGE_BYTES, MODE, PARTITIONS, WARMUP_S } from './lib/settings.js'
import { startBenchServices } from './lib/services.js'
import { envInt, median, MIB, runSuffix, sleep } from './lib/util.js'

const { ConfigResourceTypes, Kafka, Partitioners, logLevel } = kafkajs

// ---------------------------------------------------------------------------------------------
// settings

const REPS = envInt('BENCH_REPS', 3)
const BATCH = envInt('BENCH_BATCH', 100)
const DELIVERY_MESSAGES = envInt('BENCH_DELIVERY_MESSAGES', 200_000)
const DELIVERY_WARMUP = envInt('BENCH_DELIVERY_WARMUP', Math.min(20_000, Math.max(1000, Math.round(DELIVERY_MESSAGES / 10))))
const DELIVERY_CONCURRENCY = envInt('BENCH_DELIVERY_CONCURRENCY', 6)
const DELIVERY_BATCH = envInt('BENCH_DELIVERY_BATCH', 100)
const GROUPS = envInt('BENCH_GROUPS', 50)
const GROUP_RECORDS = envInt('BENCH_GROUP_RECORDS', 10)
const STALL_MS = envInt('BENCH_STALL_MS', 60_000)
const APACHE_WARMUP_RECORDS = envInt('BENCH_APACHE_WARMUP_RECORDS', 100_000)
const SKIP_BUILD = process.env.BENCH_SKIP_BUILD === '1'
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF ?? ''
const SECTIONS = ['produce-single', 'produce-batch', 'delivery', 'memory'] as const
type Section = typeof SECTIONS[number]
const ONLY = new Set((process.env.BENCH_ONLY ?? SECTIONS.join(',')).split(',').map(s => s.trim()).filter(s => s !== ''))
for (const s of ONLY) if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`BENCH_ONLY: unknown section "${s}" (known: ${SECTIONS.join(', ')})`)
const runs = (s: Section): boolean => ONLY.has(s)

const RSS_TARGET_BYTES = 200 * MIB
// A full run writes latest.json; a partial (BENCH_ONLY) or profiled (BENCH_CPU_PROF) one a git-ignored file, so
// it never replaces the figures of a full run. BENCH_RESULTS names the file explicitly.
const FULL_RUN = SECTIONS.every(s => ONLY.has(s)) && CPU_PROF_DIR === ''
const RESULTS = process.env.BENCH_RESULTS !== undefined && process.env.BENCH_RESULTS !== ''
  ? process.env.BENCH_RESULTS
  : fileURLToPath(new URL(FULL_RUN ? './results/latest.json' : './results/partial.tmp.json', import.meta.url))
const VALUE = benchValue(MESSAGE_BYTES)
const KAFKA_HOOKS_REASON = `@platformatic/kafka-hooks needs Node >= 22.14 (this is ${process.version}); on Node 20 its import fails (a missing \`glob\` export of node:fs)`

/** Retention caps on benchmark topics, so a long run does not fill the broker's disk (/dev/shm). */
const TOPIC_CONFIG = [
  { name: 'retention.bytes', value: String(32 * MIB) },
  { name: 'segment.bytes', value: String(8 * MIB) }
]

// ---------------------------------------------------------------------------------------------
// results

interface Row<F> { reps: F[], median: F }

function medianFigures (reps: Figures[]): Figures {
  return {
    messagesPerSec: median(reps.map(r => r.messagesPerSec)),
    p50Ms: median(reps.map(r => r.p50Ms)),
    p99Ms: median(reps.map(r => r.p99Ms)),
    messages: median(reps.map(r => r.messages)),
    failures: reps.reduce((n, r) => n + r.failures, 0),
    ...(reps.some(r => r.statusCodes !== undefined) ? { statusCodes: sumCounts(reps.map(r => r.statusCodes ?? {})) } : {}),
    durationS: median(reps.map(r => r.durationS))
  }
}

/** Per-status request counts summed over repetitions. */
function sumCounts (list: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const c of list) for (const [k, v] of Object.entries(c)) out[k] = (out[k] ?? 0) + v
  return out
}

function medianDelivery (reps: DeliveryFigures[]): DeliveryFigures {
  const opt = (xs: Array<number | undefined>): number | undefined => {
    const ok = xs.filter((x): x is number => x !== undefined)
    return ok.length === 0 ? undefined : median(ok)
  }
  return {
    messagesPerSec: median(reps.map(r => r.messagesPerSec)),
    p99Ms: opt(reps.map(r => r.p99Ms)),
    p50Ms: opt(reps.map(r => r.p50Ms)),
    latencySource: reps[0]?.latencySource ?? '',
    count: median(reps.map(r => r.count)),
    joinMs: median(reps.map(r => r.joinMs)),
    spanS: median(reps.map(r => r.spanS)),
    failures: reps.reduce((n, r) => n + r.failures, 0)
  }
}

const row = <F>(reps: F[], med: (r: F[]) => F): Row<F> => ({ reps, median: med(reps) })

interface Target { what: string, ratio: number | undefined, goal: string, met: boolean | undefined }

const log = (line: string): void => { console.log(line) }

// ---------------------------------------------------------------------------------------------
// main

async function main (): Promise<void> {
  const startedAt = new Date()
  const loadStart = loadAverage()
  const suffix = runSuffix()
  let services: Services | undefined
  let gateway: GatewayProcess | undefined
  let admin: kafkajs.Admin | undefined
  let producer: kafkajs.Producer | undefined
  let receiver: BenchReceiver | undefined
  let bridge: StrimziBridge | undefined
  const cleanups: Array<() => Promise<void>> = []
  const stopAll = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) await c().catch((err: unknown) => { console.error('# cleanup failed:', err) })
    await bridge?.stop().catch(() => undefined)
    await gateway?.stop().catch(() => undefined)
    await producer?.disconnect().catch(() => undefined)
    await admin?.disconnect().catch(() => undefined)
    await receiver?.close().catch(() => undefined)
    await services?.stop().catch(() => undefined)
  }
  let interrupted = false
  process.once('SIGINT', () => {
    interrupted = true
    console.error('# SIGINT: stopping everything')
    void stopAll().finally(() => process.exit(130))
  })

  const results: Record<string, unknown> = {}
  const sectionSeconds: Record<string, number> = {}
  let sectionStarted = performance.now()
  const sectionDone = (name: Section): void => {
    const s = (performance.now() - sectionStarted) / 1000
    sectionSeconds[name] = +s.toFixed(1)
    log(`# ${name} took ${s.toFixed(0)} s`)
    sectionStarted = performance.now()
  }
  let buildTypeErrors: string | undefined
  const targets: Target[] = []
  const lines: string[] = []
  try {
    if (MODE === 'build' && !SKIP_BUILD) {
      log('# building the gateway (tsc -p tsconfig.build.json → dist/)')
      const built = await buildGateway()
      buildTypeErrors = built.typeErrors
      if (buildTypeErrors !== undefined) console.error(`# WARNING: the gateway build has type errors (JavaScript was emitted and is what runs):\n${buildTypeErrors}`)
    }
    services = await startBenchServices(log)
    const brokers = services.brokers
    const brokerList = brokers.split(',')
    const kafka = new Kafka({ clientId: `bench-runner-${suffix}`, brokers: brokerList, logLevel: logLevel.NOTHING })
    admin = kafka.admin()
    await admin.connect()
    producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner })
    await producer.connect()
    receiver = await startBenchReceiver()
    const adm = admin
    // Topics are deleted only at the very end, once no client uses them: a kafkajs client that produced to a
    // topic deleted later keeps it in its metadata requests, and every later send fails (UNKNOWN_TOPIC_OR_PARTITION).
    const createdTopics: string[] = []
    const createTopic = async (topic: string, partitions = PARTITIONS): Promise<string> => {
      await adm.createTopics({ topics: [{ topic, numPartitions: partitions, configEntries: TOPIC_CONFIG }], waitForLeaders: true })
      createdTopics.push(topic)
      return topic
    }
    /** Records ever written to a topic (sum of high watermarks: retention deletes old segments, offsets stay). */
    const recordsWritten = async (topic: string): Promise<number> =>
      (await adm.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0)
    if (services.broker.source === 'external') {
      // on our own broker the data goes with it; on someone else's, clean up
      cleanups.push(async () => {
        await gateway?.stop()
        await producer?.disconnect().catch(() => undefined)
        if (createdTopics.length > 0) await adm.deleteTopics({ topics: createdTopics })
      })
    }

    let gatewaySeq = 0
    const launchGateway = async (): Promise<GatewayProcess> => {
      gatewaySeq++
      const id = `bench-gw-${suffix}-${gatewaySeq}`
      return await startGateway({
        mode: MODE,
        output: 'inherit',
        nodeArgs: CPU_PROF_DIR !== '' ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : [],
        env: {
          KAFKA_BROKERS: brokers,
          REDIS_URL: services?.redisUrl ?? '',
          KAFKA_CLIENT_ID: id,
          REGISTRY_KEY: `bench-registry-${id}`,
          LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
          API_KEYS: ''
        }
      })
    }

    const strimzi = await probeStrimziBridge()
    log(`# broker ${brokers} (${services.broker.source}); redis ${services.redisUrl} (${services.redis.source}); ` +
      `${REPS} × ${DURATION_S} s per row after ${WARMUP_S} s of warm-up; ${CONNECTIONS} connections; ${MESSAGE_BYTES} B values; ${PARTITIONS} partitions`)
    log(`# Strimzi Kafka Bridge ${strimzi.version}: ${strimzi.available ? `jars in ${strimzi.libsDir}` : `not available: ${strimzi.reason}`}`)

    const needsMainGateway = runs('produce-single') || runs('produce-batch') || runs('delivery')
    if (needsMainGateway) {
      gateway = await launchGateway()
      log(`# gateway ${gateway.url} (pid ${gateway.pid}, ${MODE === 'build' ? 'node dist/src/server.js' : 'tsx src/server.ts'})`)
    }
    if (strimzi.available && (runs('produce-single') || runs('produce-batch'))) {
      try {
        bridge = await startStrimziBridge({ bootstrap: brokers, libsDir: strimzi.libsDir, producerProps: { acks: 'all' } })
        log(`# Strimzi bridge ${bridge.url}`)
      } catch (err) {
        log(`# Strimzi bridge could not start: ${err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err)}`)
      }
    }
    const peerReason = strimzi.available ? (bridge === undefined ? 'the bridge did not start (see log above)' : '') : strimzi.reason

    const strimziRun = async (url: string, topic: string, seconds: number, per: number): Promise<Figures> => {
      const req = strimziProduceRequest(topic, Array.from({ length: per }, () => ({ value: VALUE })))
      const raw = await autocannonInChild({ url: url + req.path, method: 'POST', connections: CONNECTIONS, duration: seconds, timeout: 30, headers: req.headers, body: req.body })
      return { messagesPerSec: (raw['2xx'] * per) / raw.duration, p50Ms: raw.latency.p50, p99Ms: raw.latency.p99, messages: raw['2xx'] * per, failures: raw.non2xx + raw.errors + raw.timeouts, statusCodes: statusCounts(raw), durationS: raw.duration }
    }

    // -------------------------------------------------------------------------------------------
    // 1. produce-single
    if (runs('produce-single') && gateway !== undefined) {
      sectionStarted = performance.now()
      const gw = gateway
      const p = producer
      log('\n## produce-single — warm-up')
      // one topic per contender, warm-up and repetitions alike (size-capped by TOPIC_CONFIG)
      const tGw = await createTopic(`bench-single-gw-${suffix}`)
      const tDirect = await createTopic(`bench-single-direct-${suffix}`)
      const tStrimzi = bridge !== undefined ? await createTopic(`bench-single-strimzi-${suffix}`) : ''
      let acknowledged = (await gatewayProduceRun({ url: gw.url, topic: tGw, seconds: WARMUP_S, connections: CONNECTIONS, value: VALUE })).figures.messages
      await directSingleRun(p, tDirect, WARMUP_S, CONNECTIONS, VALUE)
      if (bridge !== undefined) await strimziRun(bridge.url, tStrimzi, WARMUP_S, 1)
      const gwReps: Figures[] = []
      const directReps: Figures[] = []
      const strimziReps: Figures[] = []
      const rssPeaks: number[] = []
      for (let i = 1; i <= REPS; i++) {
        const sampler = sampleRss(gw.pid)
        const g = await gatewayProduceRun({ url: gw.url, topic: tGw, seconds: DURATION_S, connections: CONNECTIONS, value: VALUE })
        acknowledged += g.figures.messages
        const peak = sampler.stop().peakBytes
        rssPeaks.push(peak)
        gwReps.push(g.figures)
        const d = await directSingleRun(p, tDirect, DURATION_S, CONNECTIONS, VALUE)
        directReps.push(d)
        log(`# rep ${i}: gateway ${g.figures.messagesPerSec.toFixed(0)} msg/s (p99 ${g.figures.p99Ms.toFixed(1)} ms, peak RSS ${(peak / MIB).toFixed(0)} MiB), ` +
          `kafkajs ${d.messagesPerSec.toFixed(0)} msg/s (p99 ${d.p99Ms.toFixed(1)} ms)`)
        if (bridge !== undefined) strimziReps.push(await strimziRun(bridge.url, tStrimzi, DURATION_S, 1))
      }
      const gwRow = row(gwReps, medianFigures)
      const directRow = row(directReps, medianFigures)
      const ratio = gwRow.median.messagesPerSec / directRow.median.messagesPerSec
      targets.push({ what: 'produce-single: gateway ≥ kafkajs direct (same concurrency)', ratio, goal: '≥ 1.00', met: ratio >= 1 })
      const strimziRow = strimziReps.length > 0 ? row(strimziReps, medianFigures) : undefined
      const written = await recordsWritten(tGw)
      results.produceSingle = {
        gatewayTopicCheck: { recordsWritten: written, acknowledged2xx: acknowledged },
        gateway: gwRow,
        kafkajsDirect: directRow,
        strimziBridge: strimziRow ?? { notRun: peerReason },
        ratioGatewayToDirect: +ratio.toFixed(3),
        perRepRatios: gwReps.map((g, i) => +(g.messagesPerSec / (directReps[i]?.messagesPerSec ?? NaN)).toFixed(3)),
        gatewayPeakRssBytes: { reps: rssPeaks, median: median(rssPeaks) }
      }
      lines.push(section('produce-single', `1 message of ${MESSAGE_BYTES} B per request, ${CONNECTIONS} connections / sends in flight, acks -1`))
      lines.push(figRow('gateway POST /messages', gwRow.median))
      lines.push(figRow('kafkajs direct send', directRow.median))
      lines.push(strimziRow !== undefined ? figRow(`Strimzi bridge ${strimzi.version}`, strimziRow.median) : notRunRow(`Strimzi bridge ${strimzi.version}`, peerReason))
      lines.push(ratioRow('gateway / kafkajs direct', ratio, '≥ 1.00'))
      lines.push(writtenRow(written, acknowledged, 1))
      if (strimziRow !== undefined) lines.push(ratioRow('gateway / Strimzi bridge', gwRow.median.messagesPerSec / strimziRow.median.messagesPerSec, '> 1.00'))
      sectionDone('produce-single')
    }

    // -------------------------------------------------------------------------------------------
    // 2. produce-batch
    if (runs('produce-batch') && gateway !== undefined) {
      sectionStarted = performance.now()
      const gw = gateway
      const p = producer
      log(`\n## produce-batch (${BATCH} messages per request) — warm-up`)
      const tGw = await createTopic(`bench-batch-gw-${suffix}`)
      const tDirect = await createTopic(`bench-batch-direct-${suffix}`)
      const tApache = await createTopic(`bench-batch-apache-${suffix}`)
      const tStrimzi = bridge !== undefined ? await createTopic(`bench-batch-strimzi-${suffix}`) : ''
      let acknowledged = (await gatewayProduceRun({ url: gw.url, topic: tGw, seconds: WARMUP_S, connections: CONNECTIONS, value: VALUE, messagesPerRequest: BATCH })).figures.messages
      await directBatchRun(p, tDirect, WARMUP_S, CONNECTIONS, VALUE, BATCH)
      if (bridge !== undefined) await strimziRun(bridge.url, tStrimzi, WARMUP_S, BATCH)
      const apacheWarm = await runProducerPerformance({ bootstrap: brokers, topic: tApache, records: APACHE_WARMUP_RECORDS, recordSize: MESSAGE_BYTES, acks: -1 })
      // ProducerPerformance sends a number of records, not for a time: size its runs to last about BENCH_DURATION
      const apacheRecords = Math.max(10_000, Math.round(apacheWarm.recordsPerSec * DURATION_S))
      log(`# ProducerPerformance warm-up: ${apacheWarm.recordsPerSec.toFixed(0)} records/s; measured runs send ${apacheRecords} records each`)
      const gwReps: Figures[] = []
      const directReps: Figures[] = []
      const apacheReps: ProducerPerformanceResult[] = []
      const strimziReps: Figures[] = []
      for (let i = 1; i <= REPS; i++) {
        const g = await gatewayProduceRun({ url: gw.url, topic: tGw, seconds: DURATION_S, connections: CONNECTIONS, value: VALUE, messagesPerRequest: BATCH })
        acknowledged += g.figures.messages
        gwReps.push(g.figures)
        const d = await directBatchRun(p, tDirect, DURATION_S, CONNECTIONS, VALUE, BATCH)
        directReps.push(d)
        const a = await runProducerPerformance({ bootstrap: brokers, topic: tApache, records: apacheRecords, recordSize: MESSAGE_BYTES, acks: -1 })
        apacheReps.push({ ...a, raw: '' })
        log(`# rep ${i}: gateway ${g.figures.messagesPerSec.toFixed(0)} msg/s, kafkajs sendBatch ${d.messagesPerSec.toFixed(0)} msg/s, ` +
          `ProducerPerformance ${a.recordsPerSec.toFixed(0)} records/s`)
        if (bridge !== undefined) strimziReps.push(await strimziRun(bridge.url, tStrimzi, DURATION_S, BATCH))
      }
      const gwRow = row(gwReps, medianFigures)
      const directRow = row(directReps, medianFigures)
      const apacheMedian = {
        recordsPerSec: median(apacheReps.map(a => a.recordsPerSec)),
        p50Ms: median(apacheReps.map(a => a.p50Ms)),
        p99Ms: median(apacheReps.map(a => a.p99Ms)),
        records: apacheRecords
      }
      const ratioApache = gwRow.median.messagesPerSec / apacheMedian.recordsPerSec
      const ratioDirect = gwRow.median.messagesPerSec / directRow.median.messagesPerSec
      targets.push({ what: 'produce-batch: gateway ≥ 50% of Apache ProducerPerformance', ratio: ratioApache, goal: '≥ 0.50', met: ratioApache >= 0.5 })
      const strimziRow = strimziReps.length > 0 ? row(strimziReps, medianFigures) : undefined
      targets.push(strimziRow !== undefined
        ? { what: 'produce: gateway ahead of the peer gateway (Strimzi, batch)', ratio: gwRow.median.messagesPerSec / strimziRow.median.messagesPerSec, goal: '> 1.00', met: gwRow.median.messagesPerSec > strimziRow.median.messagesPerSec }
        : { what: `produce: gateway ahead of the peer gateway (Strimzi) — not run: ${peerReason}`, ratio: undefined, goal: '> 1.00', met: undefined })
      const written = await recordsWritten(tGw)
      results.produceBatch = {
        gatewayTopicCheck: { recordsWritten: written, acknowledged2xx: acknowledged },
        messagesPerRequest: BATCH,
        gateway: gwRow,
        kafkajsSendBatch: directRow,
        apacheProducerPerformance: {
          settings: { acks: -1, 'batch.size': '16384 (Kafka 3.9 default)', 'linger.ms': '0 (Kafka 3.9 default)', recordSize: MESSAGE_BYTES, throughput: -1, recordsPerRun: apacheRecords },
          reps: apacheReps,
          median: apacheMedian
        },
        strimziBridge: strimziRow ?? { notRun: peerReason },
        ratioGatewayToApache: +ratioApache.toFixed(3),
        ratioGatewayToKafkajs: +ratioDirect.toFixed(3)
      }
      lines.push(section('produce-batch', `${BATCH} messages of ${MESSAGE_BYTES} B per request, ${CONNECTIONS} connections / requests in flight, acks -1 everywhere`))
      lines.push(figRow(`gateway POST /messages ×${BATCH}`, gwRow.median))
      lines.push(figRow(`kafkajs sendBatch ×${BATCH}`, directRow.median))
      lines.push(`  ${'Apache ProducerPerformance (acks=-1)'.padEnd(40)} ${fmt(apacheMedian.recordsPerSec, 0, 10)} ${fmt(apacheMedian.p50Ms, 2, 9)} ${fmt(apacheMedian.p99Ms, 2, 9)}   per record at saturation`)
      lines.push(strimziRow !== undefined ? figRow(`Strimzi bridge ${strimzi.version} ×${BATCH}`, strimziRow.median) : notRunRow(`Strimzi bridge ${strimzi.version}`, peerReason))
      lines.push(ratioRow('gateway / ProducerPerformance', ratioApache, '≥ 0.50'))
      lines.push(ratioRow('gateway / kafkajs sendBatch', ratioDirect, ''))
      lines.push(writtenRow(written, acknowledged, BATCH))
      if (strimziRow !== undefined) lines.push(ratioRow('gateway / Strimzi bridge', gwRow.median.messagesPerSec / strimziRow.median.messagesPerSec, '> 1.00'))
      sectionDone('produce-batch')
    }
    if (bridge !== undefined) {
      await bridge.stop()
      bridge = undefined
    }

    // -------------------------------------------------------------------------------------------
    // 3. delivery
    if (runs('delivery') && gateway !== undefined) {
      sectionStarted = performance.now()
      const gw = gateway
      const rx = receiver
      log(`\n## delivery — filling ${DELIVERY_MESSAGES} + ${DELIVERY_WARMUP} (warm-up) records in ${PARTITIONS} partitions`)
      const topic = await createTopic(`bench-delivery-${suffix}`)
      const warmTopic = await createTopic(`bench-delivery-warm-${suffix}`)
      // the delivery topic holds ~200 MB: lift the size cap for it
      await adm.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.bytes', value: '-1' }] }] })
      const t0 = performance.now()
      await fillTopic(producer, topic, DELIVERY_MESSAGES, PARTITIONS, VALUE)
      await fillTopic(producer, warmTopic, DELIVERY_WARMUP, PARTITIONS, VALUE)
      log(`# filled in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
      const bareRead = startBareConsumer()
      const bareHttp = startBareConsumer()
      cleanups.push(bareRead.close, bareHttp.close)
      const common = { expected: DELIVERY_MESSAGES, concurrency: DELIVERY_CONCURRENCY, stallMs: STALL_MS }
      log(`# warm-up: gateway, gateway with batchSize ${DELIVERY_BATCH}, kafkajs (read), kafkajs + undici`)
      await gatewayDeliveryRun({ gateway: gw, receiver: rx, topic: warmTopic, groupId: `bench-deliver-warm-gw-${suffix}`, ...common, expected: DELIVERY_WARMUP })
      await gatewayDeliveryRun({ gateway: gw, receiver: rx, topic: warmTopic, groupId: `bench-deliver-warm-gwb-${suffix}`, ...common, expected: DELIVERY_WARMUP, batchSize: DELIVERY_BATCH })
      await bareDeliveryRun({ bare: bareRead, brokers: brokerList, topic: warmTopic, groupId: `bench-deliver-warm-read-${suffix}`, ...common, expected: DELIVERY_WARMUP })
      await bareDeliveryRun({ bare: bareHttp, receiver: rx, brokers: brokerList, topic: warmTopic, groupId: `bench-deliver-warm-http-${suffix}`, ...common, expected: DELIVERY_WARMUP })
      const gwReps: DeliveryFigures[] = []
      const batchReps: DeliveryFigures[] = []
      const readReps: DeliveryFigures[] = []
      const httpReps: DeliveryFigures[] = []
      for (let i = 1; i <= REPS; i++) {
        const g = await gatewayDeliveryRun({ gateway: gw, receiver: rx, topic, groupId: `bench-deliver-gw-${suffix}-${i}`, ...common })
        gwReps.push(g)
        const b = await gatewayDeliveryRun({ gateway: gw, receiver: rx, topic, groupId: `bench-deliver-gwb-${suffix}-${i}`, ...common, batchSize: DELIVERY_BATCH })
        batchReps.push(b)
        const r = await bareDeliveryRun({ bare: bareRead, brokers: brokerList, topic, groupId: `bench-deliver-read-${suffix}-${i}`, ...common })
        readReps.push(r)
        const h = await bareDeliveryRun({ bare: bareHttp, receiver: rx, brokers: brokerList, topic, groupId: `bench-deliver-http-${suffix}-${i}`, ...common })
        httpReps.push(h)
        log(`# rep ${i}: gateway ${g.messagesPerSec.toFixed(0)} msg/s (p99 ${g.p99Ms === undefined ? 'n/a' : g.p99Ms.toFixed(0)} ms), batches ${b.messagesPerSec.toFixed(0)} msg/s, ` +
          `kafkajs read ${r.messagesPerSec.toFixed(0)} msg/s, kafkajs + undici ${h.messagesPerSec.toFixed(0)} msg/s (p99 ${h.p99Ms === undefined ? 'n/a' : h.p99Ms.toFixed(0)} ms)`)
      }
      const gwRow = row(gwReps, medianDelivery)
      const batchRow = row(batchReps, medianDelivery)
      const readRow = row(readReps, medianDelivery)
      const httpRow = row(httpReps, medianDelivery)
      const ratioRead = gwRow.median.messagesPerSec / readRow.median.messagesPerSec
      const ratioHttp = gwRow.median.messagesPerSec / httpRow.median.messagesPerSec
      const ratioBatchRead = batchRow.median.messagesPerSec / readRow.median.messagesPerSec
      targets.push({ what: 'delivery: gateway ≥ 70% of the bare kafkajs consumer', ratio: ratioRead, goal: '≥ 0.70', met: ratioRead >= 0.7 })
      targets.push({ what: `delivery: gateway with batchSize ${DELIVERY_BATCH} ≥ 70% of the bare kafkajs consumer`, ratio: ratioBatchRead, goal: '≥ 0.70', met: ratioBatchRead >= 0.7 })
      results.delivery = {
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
      lines.push(section('delivery', `${DELIVERY_MESSAGES} records of ${MESSAGE_BYTES} B in ${PARTITIONS} partitions → receiver (204), concurrency ${DELIVERY_CONCURRENCY}; msg/s first to last delivery`, 'p50 f→2xx', 'p99 f→2xx'))
      lines.push(deliveryRow('gateway consumer group → webhook', gwRow.median))
      lines.push(deliveryRow(`gateway, webhook batchSize ${DELIVERY_BATCH}`, batchRow.median))
      lines.push(deliveryRow('kafkajs bare consumer (read, no HTTP)', readRow.median))
      lines.push(deliveryRow('kafkajs + undici, hand-written', httpRow.median))
      lines.push(notRunRow('@platformatic/kafka-hooks', KAFKA_HOOKS_REASON))
      lines.push(ratioRow('gateway / bare kafkajs consumer', ratioRead, '≥ 0.70'))
      lines.push(ratioRow('gateway / kafkajs + undici', ratioHttp, ''))
      lines.push(ratioRow(`gateway batchSize ${DELIVERY_BATCH} / bare kafkajs consumer`, ratioBatchRead, '≥ 0.70'))
      if (gwRow.median.p99Ms === undefined) lines.push(`  gateway fetch-to-2xx: ${gwRow.median.latencySource}`)
      await bareRead.close()
      await bareHttp.close()
      sectionDone('delivery')
    }
    if (gateway !== undefined) {
      await gateway.stop()
      gateway = undefined
    }

    // -------------------------------------------------------------------------------------------
    // 4. memory
    if (runs('memory')) {
      sectionStarted = performance.now()
      log(`\n## memory — idle, then ${GROUPS} consumer groups on ${GROUPS} topics, a fresh gateway per repetition`)
      const groupTopics: string[] = []
      for (let t = 0; t < GROUPS; t++) groupTopics.push(await createTopic(`bench-mem-${suffix}-${t}`, 1))
      await producer.sendBatch({ acks: -1, topicMessages: groupTopics.map(topic => ({ topic, messages: Array.from({ length: GROUP_RECORDS }, () => ({ value: VALUE, headers: { 'content-type': 'text/plain; charset=utf-8' } })) })) })
      const idleReps: number[] = []
      const groupsReps: number[] = []
      const joinSeconds: number[] = []
      const rx = receiver
      for (let i = 1; i <= REPS; i++) {
        const gw = await launchGateway()
        gateway = gw
        await sleep(5000)
        const idle = sampleRss(gw.pid, 200)
        await sleep(2000)
        const idlePeak = idle.stop().peakBytes
        idleReps.push(idlePeak)
        rx.reset()
        const t0 = performance.now()
        const groups = groupTopics.map((topic, t) => ({ groupId: `bench-mem-${suffix}-${i}-${t}`, topic }))
        await defineGroups(gw, groupDefinitions(groups, rx.url))
        const deadline = Date.now() + 180_000
        for (;;) {
          // the gateway may shed this request (503) on a busy machine: ask again
          const reg = await registryTopics(gw).catch((err: unknown) => {
            log(`# GET /consumers: ${err instanceof Error ? err.message.slice(0, 200) : String(err)}; retrying`)
            return {} as Awaited<ReturnType<typeof registryTopics>>
          })
          const joined = groups.filter(g => {
            const e = reg[g.topic]
            return e !== undefined && (e.groupId === g.groupId || (e.groups ?? []).some(x => x.groupId === g.groupId))
          }).length
          if (joined === groups.length && rx.count() >= groups.length * GROUP_RECORDS) break
          if (Date.now() > deadline) throw new Error(`memory: after 180 s, ${joined} of ${groups.length} groups joined and ${rx.count()} of ${groups.length * GROUP_RECORDS} records delivered`)
          await sleep(500)
        }
        const joinS = (performance.now() - t0) / 1000
        joinSeconds.push(joinS)
        await sleep(5000)
        const busy = sampleRss(gw.pid, 200)
        await sleep(5000)
        const groupsPeak = busy.stop().peakBytes
        groupsReps.push(groupsPeak)
        log(`# rep ${i}: idle ${(idlePeak / MIB).toFixed(0)} MiB; ${GROUPS} groups joined and delivered in ${joinS.toFixed(1)} s; then ${(groupsPeak / MIB).toFixed(0)} MiB`)
        await fetch(`${gw.url}/consumers?all=true`, { method: 'DELETE' }).catch(() => undefined)
        await gw.stop()
        gateway = undefined
      }
      const ps = results.produceSingle as { gatewayPeakRssBytes?: { median: number } } | undefined
      const underLoad = ps?.gatewayPeakRssBytes?.median
      const groupsMedian = median(groupsReps)
      targets.push({ what: `memory: RSS with ${GROUPS} consumer groups < 200 MiB`, ratio: groupsMedian / RSS_TARGET_BYTES, goal: '< 1.00 (of 200 MiB)', met: groupsMedian < RSS_TARGET_BYTES })
      results.memory = {
        source: '/proc/<pid>/status VmRSS, sampled every 200-250 ms; peak of each window, median over repetitions',
        idleBytes: { reps: idleReps, median: median(idleReps) },
        underProduceSingleBytes: underLoad === undefined ? { notRun: 'produce-single not run' } : { median: underLoad },
        groups: GROUPS,
        withGroupsBytes: { reps: groupsReps, median: groupsMedian },
        groupsJoinedAndDeliveredSeconds: { reps: joinSeconds, median: median(joinSeconds) }
      }
      lines.push(section('memory', 'gateway RSS (VmRSS), peak of each sampling window, median over repetitions', '', '', 'RSS'))
      lines.push(memRow('idle (5 s after start)', median(idleReps)))
      lines.push(underLoad === undefined ? notRunRow('under produce-single load (peak)', 'produce-single not run') : memRow('under produce-single load (peak)', underLoad))
      lines.push(memRow(`${GROUPS} consumer groups joined (${GROUPS} topics)`, groupsMedian, '< 200 MiB'))
      sectionDone('memory')
    }

    // -------------------------------------------------------------------------------------------
    // report
    const loadEnd = loadAverage()
    const header = `kafka-http-gateway benchmark — ${startedAt.toISOString()}\n` +
      `machine: ${machine().nproc} CPUs (${machine().cpuModel}), ${machine().memoryGiB} GiB; node ${process.version}; ${machine().java}; Kafka ${services.broker.version} (${services.broker.source})\n` +
      `load average at start ${loadStart.join(' ')}, at end ${loadEnd.join(' ')}; ${REPS} repetition(s) × ${DURATION_S} s, warm-up ${WARMUP_S} s excluded, median reported`
    const targetLines = ['', 'targets (issue 7)', ...targets.map(t =>
      `  ${t.met === undefined ? 'NOT RUN' : t.met ? 'MET    ' : 'MISSED '} ${t.what}${t.ratio !== undefined ? `: ${t.ratio.toFixed(2)} (goal ${t.goal})` : ''}`)]
    const table = [header, ...lines, ...targetLines].join('\n')
    log(`\n${table}\n`)

    const out = {
      date: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: { ...machine(), loadAverageStart: loadStart, loadAverageEnd: loadEnd },
      setup: {
        broker: services.broker,
        redis: services.redis.source,
        gateway: MODE === 'build' ? 'node dist/src/server.js (tsc -p tsconfig.build.json)' : 'node --import tsx src/server.ts',
        ...(buildTypeErrors !== undefined ? { buildTypeErrors } : {}),
        gatewayEnv: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'error', PRODUCE_LINGER_MS: process.env.PRODUCE_LINGER_MS ?? 'default (2)', PRODUCE_MAX_BATCH_RECORDS: process.env.PRODUCE_MAX_BATCH_RECORDS ?? 'default (1000)' },
        loadGenerator: 'autocannon, in a process of its own',
        durationS: DURATION_S,
        warmupS: WARMUP_S,
        repetitions: REPS,
        connections: CONNECTIONS,
        messageBytes: MESSAGE_BYTES,
        partitions: PARTITIONS,
        acks: -1,
        sections: [...ONLY],
        sectionSeconds,
        totalSeconds: +((Date.now() - startedAt.getTime()) / 1000).toFixed(1),
        ...(CPU_PROF_DIR !== '' ? { cpuProfileDir: CPU_PROF_DIR } : {})
      },
      ...results,
      peers: {
        strimziBridge: strimzi.available ? { version: strimzi.version, ran: bridge !== undefined || peerReason === '' } : { version: strimzi.version, notRun: strimzi.reason },
        kafkaHooks: { notRun: KAFKA_HOOKS_REASON }
      },
      targets,
      table
    }
    mkdirSync(dirname(RESULTS), { recursive: true })
    writeFileSync(RESULTS, `${JSON.stringify(out, null, 2)}\n`)
    log(`# wrote ${RESULTS}`)
  } finally {
    if (!interrupted) await stopAll()
  }

  function machine (): ReturnType<typeof machineInfo> {
    cachedMachine ??= machineInfo(services?.broker.version ?? 'unknown')
    return cachedMachine
  }
}
let cachedMachine: ReturnType<typeof machineInfo> | undefined

// ---------------------------------------------------------------------------------------------
// table

function fmt (n: number | undefined, digits: number, width: number): string {
  return (n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits)).padStart(width)
}

function section (name: string, what: string, c2 = 'p50 ms', c3 = 'p99 ms', c1 = 'msg/s'): string {
  return `\n${name}: ${what}\n  ${''.padEnd(40)} ${c1.padStart(10)} ${c2.padStart(9)} ${c3.padStart(9)}`.trimEnd()
}

function figRow (name: string, f: Figures): string {
  const codes = Object.entries(f.statusCodes ?? {}).filter(([code]) => !code.startsWith('2')).map(([code, n]) => `${n}× ${code}`)
  const failed = f.failures > 0 ? `   ${f.failures} failed requests over all repetitions${codes.length > 0 ? ` (${codes.join(', ')})` : ''}` : ''
  return `  ${name.padEnd(40)} ${fmt(f.messagesPerSec, 0, 10)} ${fmt(f.p50Ms, 2, 9)} ${fmt(f.p99Ms, 2, 9)}${failed}`
}

function deliveryRow (name: string, f: DeliveryFigures): string {
  return `  ${name.padEnd(40)} ${fmt(f.messagesPerSec, 0, 10)} ${fmt(f.p50Ms, 1, 9)} ${fmt(f.p99Ms, 1, 9)}`
}

function notRunRow (name: string, reason: string): string {
  return `  ${name.padEnd(40)} not run: ${reason}`
}

function ratioRow (name: string, ratio: number, goal: string): string {
  return `  → ${name}: ${ratio.toFixed(2)}${goal !== '' ? ` (target ${goal}: ${goalMet(ratio, goal) ? 'met' : 'MISSED'})` : ''}`
}

function goalMet (ratio: number, goal: string): boolean {
  const m = /^(≥|>)\s*([\d.]+)/.exec(goal)
  if (m === null) return true
  return m[1] === '≥' ? ratio >= Number(m[2]) : ratio > Number(m[2])
}

/** The check that every 2xx is a record, and that no record was written for a request answered otherwise. */
function writtenRow (written: number, acknowledged: number, perRequest: number): string {
  const extra = written - acknowledged
  // requests still in flight when autocannon stops are written but not counted: up to one per connection per run
  const inFlight = CONNECTIONS * perRequest * (REPS + 1)
  return `  check: ${written} records in the gateway's topic, ${acknowledged} acknowledged with 2xx (warm-up included)` +
    (extra < 0
      ? ` — ${-extra} acknowledged but MISSING`
      : extra > inFlight
        ? ` — ${extra} more than acknowledged, beyond the ${inFlight} that can be in flight when runs stop: records written for requests answered non-2xx`
        : ` — ${extra} more (requests in flight when a run stopped)`)
}

function memRow (name: string, bytes: number, goal = ''): string {
  return `  ${name.padEnd(40)} ${`${(bytes / MIB).toFixed(0)} MiB`.padStart(10)}${goal !== '' ? `   target ${goal}: ${bytes < RSS_TARGET_BYTES ? 'met' : 'MISSED'}` : ''}`
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err)
  process.exit(1)
})
