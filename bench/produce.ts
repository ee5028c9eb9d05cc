/**
 * produce-single: 1 KiB single-message POST /messages from 64 connections (autocannon, in a process of
 * its own) against the gateway running as its own process; then, in the same run and on the same broker,
 * kafkajs sending the same messages directly with 64 sends in flight. Prints messages/s, p50, p99
 * and the ratio; writes bench/results/produce.json. (`npm run bench` runs this and more, three times.)
 *
 *   npx tsx bench/produce.ts                     # starts its own broker and Redis unless KAFKA_BROKERS / REDIS_URL are set
 *   BENCH_DURATION=10 npm run bench:produce      # seconds per measured run (default 30)
 *
 * Env: BENCH_DURATION (30), BENCH_WARMUP (5, excluded from the figures), BENCH_CONNECTIONS (64),
 * BENCH_PARTITIONS (6), BENCH_MESSAGE_BYTES (1024), BENCH_GATEWAY (build: `tsc` then node dist/src/server.js;
 * tsx: the sources through tsx), and any gateway setting (PRODUCE_LINGER_MS...) passed through to the gateway process.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import kafkajs from 'kafkajs'
import { startGateway, type GatewayProcess } from '../scripts/lib/launch/gateway.js'
import { buildGateway } from '../scripts/lib/launch/gateway-build.js'
import type { Services } from '../scripts/lib/launch/services.js'
import { benchValue, directSingleRun, gatewayProduceRun, type Figures } from './lib/produce-runs.js'
import { startBenchServices } from './lib/services.js'
import { CONNECTIONS, DURATION_S, MESSAGE_BYTES, MODE, PARTITIONS, WARMUP_S } from './lib/settings.js'
import { runSuffix } from './lib/util.js'
import { createTopicsAndWait } from '../src/kafka/create-topics.js'

const { Kafka, Partitioners, logLevel } = kafkajs

const RESULTS = fileURLToPath(new URL('./results/produce.json', import.meta.url))
const VALUE = benchValue(MESSAGE_BYTES)

async function main (): Promise<void> {
  let services: Services | undefined
  let gateway: GatewayProcess | undefined
  let admin: kafkajs.Admin | undefined
  const stop = async (): Promise<void> => {
    await gateway?.stop()
    await admin?.disconnect().catch(() => {})
    await services?.stop()
  }
  process.once('SIGINT', () => { void stop().finally(() => process.exit(130)) })

  try {
    if (MODE === 'build') {
      console.log('# building the gateway (tsc -p tsconfig.build.json)')
      const built = await buildGateway()
      if (built.typeErrors !== undefined) console.error(`# WARNING: the gateway build has type errors (JavaScript was emitted and is what runs):\n${built.typeErrors}`)
    }
    services = await startBenchServices()
    const brokers = services.brokers
    const suffix = runSuffix()
    const gatewayTopic = `bench-produce-gw-${suffix}`
    const directTopic = `bench-produce-direct-${suffix}`

    const kafka = new Kafka({ clientId: `bench-direct-${suffix}`, brokers: brokers.split(','), logLevel: logLevel.NOTHING })
    admin = kafka.admin()
    await admin.connect()
    await createTopicsAndWait(admin, { topics: [gatewayTopic, directTopic].map(topic => ({ topic, numPartitions: PARTITIONS })) })

    gateway = await startGateway({
      mode: MODE,
      output: 'inherit',
      env: {
        KAFKA_BROKERS: brokers,
        REDIS_URL: services.redisUrl,
        KAFKA_CLIENT_ID: `bench-gateway-${suffix}`,
        REGISTRY_KEY: `bench-registry-${suffix}`,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
        API_KEYS: ''
      }
    })
    console.log(`# broker ${brokers}; gateway ${gateway.url} (${MODE}); ${CONNECTIONS} connections; ${MESSAGE_BYTES} B values; ` +
      `${PARTITIONS} partitions; warm-up ${WARMUP_S} s, measured ${DURATION_S} s`)

    const gatewayRun = async (seconds: number): ReturnType<typeof gatewayProduceRun> =>
      await gatewayProduceRun({ url: gateway?.url ?? '', topic: gatewayTopic, seconds, connections: CONNECTIONS, value: VALUE })

    // warm everything up first (the broker's JIT included), so neither run pays for it
    const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner })
    await producer.connect()
    console.log('# warm-up: gateway, then kafkajs direct')
    await gatewayRun(WARMUP_S)
    await directSingleRun(producer, directTopic, WARMUP_S, CONNECTIONS, VALUE)
    console.log('# measuring: gateway')
    const gw = await gatewayRun(DURATION_S)
    console.log('# measuring: kafkajs direct')
    const direct = await directSingleRun(producer, directTopic, DURATION_S, CONNECTIONS, VALUE)
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
        brokers: services.broker.source === 'external' ? 'external (KAFKA_BROKERS)' : 'local single node (scripts/local-kafka.ts)',
        gateway: MODE === 'build' ? 'node dist/src/server.js' : 'node --import tsx src/server.ts',
        loadGenerator: 'autocannon in its own process',
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
