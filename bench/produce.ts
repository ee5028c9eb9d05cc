/**
 * produce-single: 1 KiB single-message POST /messages from 64 connections (autocannon, in this process)
 * against the gateway running as its own process; then, in the same run and on the same broker,
 * kafkajs sending the same messages directly with 64 sends in flight. Prints messages/s, p50, p99
 * and the ratio; writes bench/results/produce.json.
 *
 *   npx tsx bench/produce.ts                     # starts its own broker unless KAFKA_BROKERS is set
 *   BENCH_DURATION=10 npm run bench:produce      # seconds per measured run (default 30)
 *
 * Env: BENCH_DURATION (30), BENCH_WARMUP (5, excluded from the figures), BENCH_CONNECTIONS (64),
 * BENCH_PARTITIONS (6), BENCH_MESSAGE_BYTES (1024), REDIS_URL (redis://127.0.0.1:6379/0), and any
 * gateway setting (PRODUCE_LINGER_MS...) passed through to the gateway process.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import kafkajs from 'kafkajs'
import { freePorts, startKafka, type KafkaCluster } from '../scripts/local-kafka.js'
import { autocannon, type AutocannonResult } from './lib/autocannon.js'

const { Kafka, Partitioners, logLevel } = kafkajs

const num = (name: string, fallback: number): number => {
  const v = process.env[name]
  const n = v === undefined || v === '' ? fallback : Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number (got "${v}")`)
  return n
}

const DURATION_S = num('BENCH_DURATION', 30)
const WARMUP_S = num('BENCH_WARMUP', 5)
const CONNECTIONS = num('BENCH_CONNECTIONS', 64)
const PARTITIONS = num('BENCH_PARTITIONS', 6)
const MESSAGE_BYTES = num('BENCH_MESSAGE_BYTES', 1024)
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0'
const RESULTS = fileURLToPath(new URL('./results/produce.json', import.meta.url))
const SERVER = fileURLToPath(new URL('../src/server.ts', import.meta.url))

interface Figures {
  messagesPerSec: number
  p50Ms: number
  p99Ms: number
  messages: number
  failures: number
  durationS: number
}

/** A 1 KiB text value (the JSON body is a little larger: topic and quoting). */
const VALUE = 'x'.repeat(MESSAGE_BYTES)

function percentile (sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

async function startGateway (env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess, url: string }> {
  const [port] = await freePorts(1)
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'inherit', 'inherit']
  })
  const url = `http://127.0.0.1:${String(port)}`
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}`)
    try {
      if ((await fetch(`${url}/health/live`)).ok) return { child, url }
    } catch { /* not listening yet */ }
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  child.kill('SIGKILL')
  throw new Error('gateway did not start within 60 s')
}

async function gatewayRun (url: string, topic: string, seconds: number): Promise<{ figures: Figures, raw: AutocannonResult }> {
  const raw = await autocannon({
    url: `${url}/messages`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 30,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ topic, value: VALUE })
  })
  const ok = raw['2xx']
  return {
    raw,
    figures: {
      messagesPerSec: ok / raw.duration,
      p50Ms: raw.latency.p50,
      p99Ms: raw.latency.p99,
      messages: ok,
      failures: raw.non2xx + raw.errors + raw.timeouts,
      durationS: raw.duration
    }
  }
}

async function directRun (producer: kafkajs.Producer, topic: string, seconds: number): Promise<Figures> {
  const latencies: number[] = []
  let failures = 0
  const started = performance.now()
  const deadline = started + seconds * 1000
  const headers = { 'content-type': 'text/plain; charset=utf-8', departure: 'bench-direct' }
  async function loop (): Promise<void> {
    while (performance.now() < deadline) {
      const t0 = performance.now()
      try {
        await producer.send({ topic, acks: -1, messages: [{ value: VALUE, headers: { ...headers, 'x-request-id': randomUUID() } }] })
        latencies.push(performance.now() - t0)
      } catch {
        failures++
      }
    }
  }
  await Promise.all(Array.from({ length: CONNECTIONS }, loop))
  const durationS = (performance.now() - started) / 1000
  const sorted = Float64Array.from(latencies).sort()
  return {
    messagesPerSec: latencies.length / durationS,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    messages: latencies.length,
    failures,
    durationS
  }
}

async function main (): Promise<void> {
  let cluster: KafkaCluster | undefined
  let brokers = process.env.KAFKA_BROKERS ?? ''
  if (brokers === '') {
    console.log('# starting a local Kafka broker (KAFKA_BROKERS is not set)')
    cluster = await startKafka({ nodes: 1, port: 0 })
    brokers = cluster.bootstrap
  }
  const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
  const gatewayTopic = `bench-produce-gw-${suffix}`
  const directTopic = `bench-produce-direct-${suffix}`

  const kafka = new Kafka({ clientId: `bench-direct-${suffix}`, brokers: brokers.split(','), logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [gatewayTopic, directTopic].map(topic => ({ topic, numPartitions: PARTITIONS })), waitForLeaders: true })

  let gateway: ChildProcess | undefined
  const stop = async (): Promise<void> => {
    if (gateway !== undefined && gateway.exitCode === null) {
      gateway.kill('SIGTERM')
      await Promise.race([once(gateway, 'exit'), new Promise(resolve => setTimeout(resolve, 10_000))])
      if (gateway.exitCode === null) gateway.kill('SIGKILL')
    }
    await admin.disconnect().catch(() => {})
    await cluster?.stop()
  }
  process.once('SIGINT', () => { void stop().finally(() => process.exit(130)) })

  try {
    const started = await startGateway({
      KAFKA_BROKERS: brokers,
      REDIS_URL,
      KAFKA_CLIENT_ID: `bench-gateway-${suffix}`,
      REGISTRY_KEY: `bench-registry-${suffix}`,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      API_KEYS: ''
    })
    gateway = started.child
    console.log(`# broker ${brokers}; gateway ${started.url}; ${CONNECTIONS} connections; ${MESSAGE_BYTES} B values; ` +
      `${PARTITIONS} partitions; warm-up ${WARMUP_S} s, measured ${DURATION_S} s`)

    // warm everything up first (the broker's JIT included), so neither run pays for it
    const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner })
    await producer.connect()
    console.log('# warm-up: gateway, then kafkajs direct')
    await gatewayRun(started.url, gatewayTopic, WARMUP_S)
    await directRun(producer, directTopic, WARMUP_S)
    console.log('# measuring: gateway')
    const gw = await gatewayRun(started.url, gatewayTopic, DURATION_S)
    console.log('# measuring: kafkajs direct')
    const direct = await directRun(producer, directTopic, DURATION_S)
    await producer.disconnect()

    // every 2xx is a record in the topic (warm-up included): a check that the figures count real writes
    const offsets = await admin.fetchTopicOffsets(gatewayTopic)
    const recordsInTopic = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)

    const ratio = gw.figures.messagesPerSec / direct.messagesPerSec
    const row = (name: string, f: Figures): string =>
      `${name.padEnd(28)} ${f.messagesPerSec.toFixed(0).padStart(10)} ${f.p50Ms.toFixed(2).padStart(9)} ${f.p99Ms.toFixed(2).padStart(9)} ${String(f.failures).padStart(9)}`
    console.log(`\n${'run'.padEnd(28)} ${'msg/s'.padStart(10)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'failures'.padStart(9)}`)
    console.log(row('gateway POST /messages', gw.figures))
    console.log(row('kafkajs direct (64 in flight)', direct))
    console.log(`ratio gateway/direct: ${ratio.toFixed(2)}  (records in the gateway topic: ${recordsInTopic})`)

    const result = {
      benchmark: 'produce-single',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version, loadavg: loadavg() },
      setup: {
        brokers: cluster === undefined ? 'external (KAFKA_BROKERS)' : 'local single node (scripts/local-kafka.ts)',
        connections: CONNECTIONS,
        messageBytes: MESSAGE_BYTES,
        partitions: PARTITIONS,
        warmupS: WARMUP_S,
        durationS: DURATION_S,
        acks: -1,
        gatewayEnv: { PRODUCE_LINGER_MS: process.env.PRODUCE_LINGER_MS ?? 'default (2)', PRODUCE_MAX_BATCH_RECORDS: process.env.PRODUCE_MAX_BATCH_RECORDS ?? 'default (1000)' }
      },
      gateway: { ...gw.figures, statusCodes: gw.raw.statusCodeStats, recordsInTopic },
      direct,
      ratio: +ratio.toFixed(3)
    }
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
    writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`)
    console.log(`# wrote ${RESULTS}`)
  } finally {
    await stop()
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err)
  process.exit(1)
})
