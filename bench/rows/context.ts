/**
 * What every row of `npm run bench` works with, in one object: the broker's clients, the receiver, the
 * gateway and the peers under test (bench/lib/peers.ts), topic helpers, and the results, targets and
 * table lines the rows add to. Opened once by bench/run.ts, closed at the end, on error and on Ctrl-C.
 */
import kafkajs from 'kafkajs'
import { startGateway, type GatewayProcess } from '../../scripts/lib/launch/gateway.js'
import { startKafkaHooks, type KafkaHooks, type KafkaHooksOptions } from '../../scripts/lib/launch/kafka-hooks.js'
import type { Services } from '../../scripts/lib/launch/services.js'
import { startStrimziBridge, type StrimziBridge } from '../../scripts/lib/launch/strimzi-bridge.js'
import { createTopicsAndWait } from '../../src/kafka/create-topics.js'
import { probePeers, type PeerProbes } from '../lib/peers.js'
import { startPlatformaticKafka, type PlatformaticKafkaClient } from '../lib/platformatic-kafka.js'
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
  readonly peers: PeerProbes
  /** The gateway running now (stopped on exit). */
  gateway: GatewayProcess | undefined
  /** The Strimzi bridge, for the produce and delivery rows; `bridgeReason` says why not ('' when it runs). */
  bridge: StrimziBridge | undefined
  bridgeReason: string
  /** The kafka-hooks process running now (each row starts its own: its topics are in its config). */
  hooks: KafkaHooks | undefined
  /** The @platformatic/kafka child of the produce rows, once started. */
  platformatic: PlatformaticKafkaClient | undefined
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
  return {
    suffix, services, brokerList, admin, producer, receiver, peers: probePeers(),
    gateway: undefined, bridge: undefined, bridgeReason: '', hooks: undefined, platformatic: undefined,
    createdTopics: [], gatewaySeq: 0, results: {}, targets: [], lines: [], log
  }
}

/**
 * Topics are deleted only at the very end, once no client uses them: a kafkajs client that produced to a
 * topic deleted later keeps it in its metadata requests, and every later send fails (UNKNOWN_TOPIC_OR_PARTITION).
 */
export async function createTopic (b: Bench, topic: string, partitions = PARTITIONS, configs: Array<{ name: string, value: string }> = []): Promise<string> {
  await createTopics(b, [topic], partitions, configs)
  return topic
}

/** Several topics in one request (the memory row makes hundreds). */
export async function createTopics (b: Bench, topics: string[], partitions = PARTITIONS, configs: Array<{ name: string, value: string }> = []): Promise<string[]> {
  await createTopicsAndWait(b.admin, { topics: topics.map(topic => ({ topic, numPartitions: partitions, configEntries: [...TOPIC_CONFIG, ...configs] })), timeout: 60_000 })
  b.createdTopics.push(...topics)
  return topics
}

/** Records ever written to a topic (sum of high watermarks: retention deletes old segments, offsets stay). */
export async function recordsWritten (b: Bench, topic: string): Promise<number> {
  return (await b.admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0)
}

/** A fresh gateway process (its own client id and registry key) on the benchmark's broker and Redis. */
export async function launchGateway (b: Bench, env: Record<string, string> = {}): Promise<GatewayProcess> {
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
      API_KEYS: '',
      ...env
    }
  })
}

/** The Strimzi bridge when its jars and Java are there (acks=all, as the gateway); `bridgeReason` says why not otherwise. */
export async function startBridge (b: Bench): Promise<void> {
  const s = b.peers.strimzi
  if (!s.available) {
    b.bridgeReason = s.reason
    return
  }
  try {
    b.bridge = await startStrimziBridge({ bootstrap: b.services.brokers, libsDir: s.libsDir, java: s.java, version: s.version, producerProps: { acks: 'all' } })
    b.bridgeReason = ''
    b.log(`# Strimzi bridge ${b.bridge.url} (pid ${String(b.bridge.pid)})`)
  } catch (err) {
    b.bridgeReason = 'the bridge did not start (see log above)'
    b.log(`# Strimzi bridge could not start: ${err instanceof Error ? err.message.split('\n').slice(0, 5).join(' | ') : String(err)}`)
  }
}

/** The @platformatic/kafka child, started on first use; undefined (with the probe's reason) when it cannot run. */
export async function platformaticClient (b: Bench): Promise<PlatformaticKafkaClient | undefined> {
  const p = b.peers.platformaticKafka
  if (!p.available) return undefined
  b.platformatic ??= await startPlatformaticKafka(p)
  return b.platformatic
}

/** Runs `fn` with a kafka-hooks process started for it (stopped after, and on exit). */
export async function withKafkaHooks<T> (b: Bench, opts: Omit<KafkaHooksOptions, 'hooks' | 'brokers'>, fn: (hooks: KafkaHooks) => Promise<T>): Promise<T> {
  const probe = b.peers.kafkaHooks
  if (!probe.available) throw new Error(`kafka-hooks cannot run: ${probe.reason}`)
  const hooks = b.hooks = await startKafkaHooks({ hooks: probe, brokers: b.brokerList, ...opts })
  try {
    return await fn(hooks)
  } finally {
    b.hooks = undefined
    await hooks.stop()
  }
}

/** Stops what the rows started; on someone else's broker also deletes the topics (on our own the data goes with it). */
export async function closeBench (b: Bench): Promise<void> {
  const step = async (what: () => Promise<unknown> | undefined): Promise<void> => {
    await what()?.catch((err: unknown) => { console.error('# cleanup failed:', err) })
  }
  await step(() => b.bridge?.stop())
  await step(() => b.hooks?.stop())
  await step(() => b.platformatic?.close())
  await step(() => b.gateway?.stop())
  await step(() => b.producer.disconnect())
  if (b.services.broker.source === 'external' && b.createdTopics.length > 0) await step(() => b.admin.deleteTopics({ topics: b.createdTopics }))
  await step(() => b.admin.disconnect())
  await step(() => b.receiver.close())
}
