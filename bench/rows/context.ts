/**
 * What every row of `npm run bench` works with, in one object: the broker's clients, the receiver, the
 * gateway and the Strimzi bridge under test, topic helpers, and the results, targets and table lines the
 * rows add to. Opened once by bench/run.ts, closed at the end, on error and on Ctrl-C.
 */
import kafkajs from 'kafkajs'
import { startGateway, type GatewayProcess } from '../../scripts/lib/launch/gateway.js'
import type { Services } from '../../scripts/lib/launch/services.js'
import { startStrimziBridge, type StrimziBridge } from '../../scripts/lib/launch/strimzi-bridge.js'
import { probeStrimziBridge, type StrimziProbe } from '../../scripts/lib/launch/strimzi-jars.js'
import { startBenchReceiver, type BenchReceiver } from '../lib/receiver.js'
import { CPU_PROF_DIR, TOPIC_CONFIG } from '../lib/run-settings.js'
import { MODE, PARTITIONS } from '../lib/settings.js'
import type { Target } from '../lib/table.js'
import { runSuffix } from '../lib/util.js'

const { Kafka, Partitioners, logLevel } = kafkajs

export interface Bench {
  readonly suffix: string
  readonly services: Services
  readonly brokerList: string[]
  readonly admin: kafkajs.Admin
  readonly producer: kafkajs.Producer
  readonly receiver: BenchReceiver
  readonly strimzi: StrimziProbe
  /** The gateway running now (stopped on exit). */
  gateway: GatewayProcess | undefined
  bridge: StrimziBridge | undefined
  /** Why the Strimzi rows are not run ('' when they are). */
  peerReason: string
  /** Topics made here; deleted only at the very end, once no client uses them (see createTopic). */
  readonly createdTopics: string[]
  gatewaySeq: number
  readonly results: Record<string, unknown>
  readonly targets: Target[]
  readonly lines: string[]
  readonly log: (line: string) => void
}

export async function openBench (services: Services, log: (line: string) => void): Promise<Bench> {
  const suffix = runSuffix()
  const brokerList = services.brokers.split(',')
  const kafka = new Kafka({ clientId: `bench-runner-${suffix}`, brokers: brokerList, logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  const receiver = await startBenchReceiver()
  const strimzi = await probeStrimziBridge()
  return {
    suffix, services, brokerList, admin, producer, receiver, strimzi,
    gateway: undefined, bridge: undefined, peerReason: '', createdTopics: [], gatewaySeq: 0,
    results: {}, targets: [], lines: [], log
  }
}

/**
 * Topics are deleted only at the very end, once no client uses them: a kafkajs client that produced to a
 * topic deleted later keeps it in its metadata requests, and every later send fails (UNKNOWN_TOPIC_OR_PARTITION).
 */
export async function createTopic (b: Bench, topic: string, partitions = PARTITIONS): Promise<string> {
  await b.admin.createTopics({ topics: [{ topic, numPartitions: partitions, configEntries: TOPIC_CONFIG }], waitForLeaders: true })
  b.createdTopics.push(topic)
  return topic
}

/** Records ever written to a topic (sum of high watermarks: retention deletes old segments, offsets stay). */
export async function recordsWritten (b: Bench, topic: string): Promise<number> {
  return (await b.admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0)
}

/** A fresh gateway process (its own client id and registry key) on the benchmark's broker and Redis. */
export async function launchGateway (b: Bench): Promise<GatewayProcess> {
  b.gatewaySeq++
  const id = `bench-gw-${b.suffix}-${b.gatewaySeq}`
  return await startGateway({
    mode: MODE,
    output: 'inherit',
    nodeArgs: CPU_PROF_DIR !== '' ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : [],
    env: {
      KAFKA_BROKERS: b.services.brokers,
      REDIS_URL: b.services.redisUrl,
      KAFKA_CLIENT_ID: id,
      REGISTRY_KEY: `bench-registry-${id}`,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
      API_KEYS: ''
    }
  })
}

/** The Strimzi bridge for the produce rows when they run and its jars can be had; `peerReason` says why not otherwise. */
export async function startBridge (b: Bench, wanted: boolean): Promise<void> {
  if (b.strimzi.available && wanted) {
    try {
      b.bridge = await startStrimziBridge({ bootstrap: b.services.brokers, libsDir: b.strimzi.libsDir, producerProps: { acks: 'all' } })
      b.log(`# Strimzi bridge ${b.bridge.url}`)
    } catch (err) {
      b.log(`# Strimzi bridge could not start: ${err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err)}`)
    }
  }
  b.peerReason = b.strimzi.available ? (b.bridge === undefined ? 'the bridge did not start (see log above)' : '') : b.strimzi.reason
}

/** Stops what the rows started; on someone else's broker also deletes the topics (on our own the data goes with it). */
export async function closeBench (b: Bench): Promise<void> {
  const step = async (what: () => Promise<unknown> | undefined): Promise<void> => {
    await what()?.catch((err: unknown) => { console.error('# cleanup failed:', err) })
  }
  await step(() => b.bridge?.stop())
  await step(() => b.gateway?.stop())
  await step(() => b.producer.disconnect())
  if (b.services.broker.source === 'external' && b.createdTopics.length > 0) await step(() => b.admin.deleteTopics({ topics: b.createdTopics }))
  await step(() => b.admin.disconnect())
  await step(() => b.receiver.close())
}
