/**
 * The fault scenarios of issue 8, item 1, shared by the small-scale tests (test/reliability/*.test.ts)
 * and the soak (scripts/soak.ts). Each scenario starts what it needs: real gateway processes
 * (`node --import tsx src/server.ts`), a counting receiver, and — when the fault restarts or kills
 * them — its own private broker(s) or Redis. It returns the harness verdict; nothing is asserted here.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { Redis } from 'ioredis'
import { startKafka, type KafkaCluster } from '../../scripts/local-kafka.js'
import { startRedis, type LocalRedis } from '../../scripts/local-redis.js'
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js'
import {
  Cleanup, createTopic, deleteTopics, kafkaClient, runCounting, startCountingReceiver, uniqueName, waitCommitAfter, waitUntil,
  type CountingOptions, type CountingReceiver, type TopicOptions, type Trigger, type Verdict
} from './harness.js'

/** Where the scenarios that do not restart infrastructure run (the shared dev broker and Redis, or the soak's own). */
export interface Infra {
  brokers: string
  redisUrl: string
}

export interface ScenarioSize {
  messages: number
  partitions: number
  /** Distinct keys (0: no key). */
  keys: number
  /** POSTs in flight. */
  producers: number
  ratePerSec: number
  /** How long the webhook answers 503 in the webhook-down scenario. */
  webhookDownMs: number
  /** Share of deliveries that meet a random fault in the webhook-flaky scenario. */
  flakyProbability: number
  /** Every id with id % poisonModulo === 13 is refused with 422 (dead-lettered); 0: none. */
  poisonModulo: number
  drainTimeoutMs: number
  seed: number
}

/** `npm test`: a few hundred messages, seconds of faults. */
export const SMALL: ScenarioSize = {
  messages: 300,
  partitions: 4,
  keys: 16,
  producers: 8,
  ratePerSec: 40,
  webhookDownMs: 5000,
  flakyProbability: 0.1,
  poisonModulo: 97,
  drainTimeoutMs: 120_000,
  seed: Number(process.env.RELIABILITY_SEED ?? 8)
}

/** `npm run soak`: N messages over about `seconds` of production; a 30 s webhook outage. */
export function soakSize (messages: number, seconds = 60): ScenarioSize {
  return {
    messages,
    partitions: 6,
    keys: 64,
    producers: 16,
    ratePerSec: Math.max(50, Math.ceil(messages / seconds)),
    webhookDownMs: 30_000,
    flakyProbability: 0.1,
    poisonModulo: 97,
    drainTimeoutMs: 600_000,
    seed: Number(process.env.RELIABILITY_SEED ?? 8)
  }
}

/** Consumer settings that keep failovers fast (the broker's minimum session is 6 s). */
export const FAST_CONSUMER = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, rebalanceTimeoutMs: 10_000, maxWaitTimeMs: 100 }

export type Log = (line: string) => void

export interface Scenario {
  /** The row label. */
  title: (size: ScenarioSize) => string
  run: (infra: Infra, size: ScenarioSize, log: Log) => Promise<Verdict>
}

// ---------------------------------------------------------------------------------------------
// building blocks

function gatewayEnv (brokers: string, redisUrl: string, registryKey: string, clientId: string): Record<string, string> {
  return {
    KAFKA_BROKERS: brokers,
    REDIS_URL: redisUrl,
    REGISTRY_KEY: registryKey,
    KAFKA_CLIENT_ID: clientId,
    REGISTRY_HEARTBEAT_MS: '500',
    KAFKA_REQUEST_TIMEOUT_MS: '5000',
    // the Idempotency-Key in-progress marker of a killed request lives REQUEST_TIMEOUT_MS + 5 s
    REQUEST_TIMEOUT_MS: '8000',
    SHUTDOWN_TIMEOUT_MS: '5000',
    LOG_LEVEL: process.env.RELIABILITY_LOG_LEVEL ?? 'warn'
  }
}

async function httpJson (method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number, json: unknown }> {
  const res = await request(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    headersTimeout: 10_000,
    bodyTimeout: 10_000
  })
  const text = await res.body.text()
  let json: unknown
  try { json = JSON.parse(text) } catch { json = text }
  return { status: res.statusCode, json }
}

async function defineGroup (gateway: string, groupId: string, topic: string, receiverUrl: string, size: ScenarioSize, webhookTimeoutMs: number): Promise<void> {
  const { status, json } = await httpJson('POST', `${gateway}/consumer-groups`, {
    [groupId]: {
      isPartitionAssign: false,
      fromBeginning: true,
      topics: [{ name: topic }],
      webhook: { url: receiverUrl, timeoutMs: webhookTimeoutMs },
      concurrency: size.partitions,
      consumer: FAST_CONSUMER
    }
  })
  if (status >= 300) throw new Error(`POST /consumer-groups answered ${status}: ${JSON.stringify(json)}`)
}

interface InstanceStatus { running?: boolean, partitions?: Record<string, number[]>, updatedAt?: string }

/**
 * Waits until exactly `clientIds` run the group and together hold all `partitions` of `topic`
 * (GET /consumer-groups/:groupId on `gateway`), each with a status updated at or after `since` (wall ms).
 */
export async function waitGroupRunning (gateway: string, groupId: string, topic: string, partitions: number, clientIds: string[], since = 0, timeoutMs = 90_000): Promise<Record<string, number[]>> {
  return await waitUntil(`group ${groupId} running on ${clientIds.join(', ')} with ${partitions} partitions`, async () => {
    const { status, json } = await httpJson('GET', `${gateway}/consumer-groups/${groupId}`)
    if (status !== 200) return undefined
    const instances = (json as { instances?: Record<string, InstanceStatus> }).instances ?? {}
    const split: Record<string, number[]> = {}
    const all: number[] = []
    for (const [id, s] of Object.entries(instances)) {
      const parts = s.partitions?.[topic] ?? []
      if (parts.length === 0) continue
      if (!clientIds.includes(id)) return undefined
      if (s.running !== true || Date.parse(s.updatedAt ?? '') < since) return undefined
      split[id] = parts
      all.push(...parts)
    }
    const ok = clientIds.every(id => (split[id]?.length ?? 0) > 0) && all.length === partitions && new Set(all).size === partitions
    return ok ? split : undefined
  }, timeoutMs, 100)
}

async function deleteRegistry (redisUrl: string, registryKey: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false })
  try {
    await redis.connect()
    const keys = await redis.keys(`${registryKey}*`)
    if (keys.length > 0) await redis.del(...keys)
  } finally {
    redis.disconnect()
  }
}

interface Stage {
  brokers: string
  topic: string
  groupId: string
  deadLetterTopic: string
  registryKey: string
  receiver: CountingReceiver
  gateways: GatewayProcess[]
}

interface StageOptions {
  brokers: string
  redisUrl: string
  /** Delete the topics afterwards (a shared broker). */
  sharedKafka: boolean
  /** Delete the registry keys afterwards (a shared Redis). */
  sharedRedis: boolean
  instances: number
  topic?: Partial<TopicOptions>
  webhookTimeoutMs?: number
}

async function stage (cleanup: Cleanup, size: ScenarioSize, opts: StageOptions, log: Log): Promise<Stage> {
  const topic = uniqueName('rel')
  const groupId = uniqueName('rel-group')
  const deadLetterTopic = `${groupId}.dlq`
  const registryKey = uniqueName('rel-registry')
  if (opts.sharedRedis) cleanup.add(() => deleteRegistry(opts.redisUrl, registryKey))
  if (opts.sharedKafka) cleanup.add(() => deleteTopics(opts.brokers, [topic, deadLetterTopic]))
  await createTopic(opts.brokers, topic, { partitions: size.partitions, ...opts.topic })
  const poison = size.poisonModulo > 0 ? (id: number) => id % size.poisonModulo === 13 : undefined
  const receiver = await startCountingReceiver({ seed: size.seed, ...(poison !== undefined ? { poison } : {}) })
  cleanup.add(() => receiver.close())
  const gateways: GatewayProcess[] = []
  for (let i = 0; i < opts.instances; i++) {
    const clientId = uniqueName(`rel-gw${String.fromCharCode(97 + i)}`)
    const started = Date.now()
    const gw = await startGatewayProcess({ env: gatewayEnv(opts.brokers, opts.redisUrl, registryKey, clientId) })
    cleanup.add(async () => {
      await gw.stop(10_000)
      const dir = process.env.RELIABILITY_LOG_DIR
      if (dir !== undefined && dir !== '') {
        mkdirSync(dir, { recursive: true })
        writeFileSync(join(dir, `${clientId}.log`), gw.output())
      }
    })
    log(`gateway ${clientId} ready on ${gw.url} in ${Date.now() - started} ms`)
    gateways.push(gw)
  }
  const first = gateways[0] as GatewayProcess
  await defineGroup(first.url, groupId, topic, receiver.url, size, opts.webhookTimeoutMs ?? 10_000)
  const split = await waitGroupRunning(first.url, groupId, topic, size.partitions, gateways.map(g => g.clientId))
  log(`group ${groupId} running: ${JSON.stringify(split)}`)
  return { brokers: opts.brokers, topic, groupId, deadLetterTopic, registryKey, receiver, gateways }
}

function produceOptions (s: Stage, size: ScenarioSize, gateways: () => string[]): Parameters<typeof runCounting>[0]['produce'] {
  return {
    topic: s.topic,
    count: size.messages,
    keys: size.keys,
    concurrency: size.producers,
    ratePerSec: size.ratePerSec,
    gateways,
    keyPrefix: uniqueName('rel-key'),
    maxRetryMs: Math.max(120_000, size.drainTimeoutMs / 2)
  }
}

/** runCounting over a staged scenario: what every scenario shares, plus its own faults. */
async function countOn (s: Stage, size: ScenarioSize, log: Log, fault: string, gateways: () => string[], faults: Pick<CountingOptions, 'triggers' | 'background'>): Promise<Verdict> {
  return await runCounting({
    fault,
    brokers: s.brokers,
    topic: s.topic,
    groupId: s.groupId,
    deadLetterTopic: s.deadLetterTopic,
    receiver: s.receiver,
    produce: produceOptions(s, size, gateways),
    ...faults,
    drainTimeoutMs: size.drainTimeoutMs,
    seed: size.seed,
    log
  })
}

async function withCleanup<T> (fn: (cleanup: Cleanup) => Promise<T>): Promise<T> {
  const cleanup = new Cleanup()
  try {
    return await fn(cleanup)
  } finally {
    await cleanup.run()
  }
}

/** Waits until no partition of `topic` has `node` as its leader or in its ISR (the cluster has healed around it). */
async function waitIsrWithout (brokers: string, topic: string, node: number): Promise<number> {
  const admin = kafkaClient(brokers).admin()
  await admin.connect()
  try {
    return await waitUntil(`broker ${node} out of every ISR of ${topic}`, async () => {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
      const parts = topics[0]?.partitions ?? []
      return parts.length > 0 && parts.every(p => p.leader >= 0 && p.leader !== node && !p.isr.includes(node)) ? performance.now() : undefined
    }, 120_000, 100)
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

/** The group coordinator of the cluster: the leader of __consumer_offsets' only partition (offsets.topic.num.partitions=1). */
async function coordinatorNode (brokers: string): Promise<number> {
  const admin = kafkaClient(brokers).admin()
  await admin.connect()
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] })
    const leader = topics[0]?.partitions[0]?.leader
    if (leader === undefined || leader < 0) throw new Error('no leader for __consumer_offsets')
    return leader
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

// ---------------------------------------------------------------------------------------------
// the scenarios

export type ScenarioName = 'webhook-down' | 'webhook-flaky' | 'gateway-kill' | 'gateway-takeover' | 'broker-restart' | 'broker-loss' | 'redis-restart'

export const SCENARIOS: Record<ScenarioName, Scenario> = {
  'webhook-down': {
    title: size => `webhook answers 503 for ${size.webhookDownMs / 1000} s, then recovers`,
    run: (infra, size, log) => withCleanup(async cleanup => {
      const s = await stage(cleanup, size, { ...infra, sharedKafka: true, sharedRedis: true, instances: 1 }, log)
      const gw = s.gateways[0] as GatewayProcess
      return await countOn(s, size, log, SCENARIOS['webhook-down'].title(size), () => [gw.url], {
        triggers: [{
          name: `webhook 503 for ${size.webhookDownMs} ms`,
          kind: 'webhook',
          when: { handled: 0.2 },
          run: ({ receiver }) => receiver.down(size.webhookDownMs, 503)
        }]
      })
    })
  },

  'webhook-flaky': {
    title: size => `random 5xx, timeouts and connection resets on ${Math.round(size.flakyProbability * 100)}% of deliveries`,
    run: (infra, size, log) => withCleanup(async cleanup => {
      // a short per-attempt timeout, so a held request costs 1.5 s
      const s = await stage(cleanup, size, { ...infra, sharedKafka: true, sharedRedis: true, instances: 1, webhookTimeoutMs: 1500 }, log)
      const gw = s.gateways[0] as GatewayProcess
      s.receiver.flaky(size.flakyProbability)
      return await countOn(s, size, log, SCENARIOS['webhook-flaky'].title(size), () => [gw.url], {
        background: [{ name: `random faults on ${size.flakyProbability * 100}% of webhook requests (seed ${size.seed})`, kind: 'webhook' }]
      })
    })
  },

  'gateway-kill': {
    title: () => 'gateway SIGKILLed mid-stream and restarted, twice',
    run: (infra, size, log) => withCleanup(async cleanup => {
      const s = await stage(cleanup, size, { ...infra, sharedKafka: true, sharedRedis: true, instances: 1 }, log)
      const gw = s.gateways[0] as GatewayProcess
      const kill = (n: number, at: number): Trigger => ({
        name: `SIGKILL #${n} and restart`,
        kind: 'gateway',
        when: { accepted: at },
        run: async ({ log }) => {
          const exit = await gw.kill('SIGKILL')
          // the only member is dead: no generation can end after this; the restarted one begins a new, stable one
          const killedAt = performance.now()
          log(`gateway killed (${JSON.stringify(exit)}); restarting on ${gw.url}`)
          const since = Date.now()
          await gw.start()
          log(`gateway restarted in ${Date.now() - since} ms`)
          await waitGroupRunning(gw.url, s.groupId, s.topic, size.partitions, [gw.clientId], since)
          return { windowEnd: killedAt }
        }
      })
      return await countOn(s, size, log, SCENARIOS['gateway-kill'].title(size), () => [gw.url], {
        triggers: [kill(1, 0.3), kill(2, 0.65)]
      })
    })
  },

  'gateway-takeover': {
    title: () => 'two gateway instances, one SIGKILLed: the other takes over',
    run: (infra, size, log) => withCleanup(async cleanup => {
      const s = await stage(cleanup, size, { ...infra, sharedKafka: true, sharedRedis: true, instances: 2 }, log)
      const [a, b] = s.gateways as [GatewayProcess, GatewayProcess]
            // a load balancer: POSTs go to the instances that are up
return await countOn(s, size, log, SCENARIOS['gateway-takeover'].title(size), () => [a, b].filter(g => g.isRunning()).map(g => g.url), {
        triggers: [{
          name: 'SIGKILL of instance b',
          kind: 'gateway',
          when: { accepted: 0.4 },
          run: async ({ log }) => {
            await b.kill('SIGKILL')
            const killed = Date.now()
            const split = await waitGroupRunning(a.url, s.groupId, s.topic, size.partitions, [a.clientId])
            log(`instance a holds ${JSON.stringify(split)} ${Date.now() - killed} ms after the kill`)
            return { windowEnd: await waitCommitAfter(infra.brokers, s.groupId, s.topic, s.receiver, performance.now()) }
          }
        }]
      })
    })
  },

  'broker-restart': {
    title: () => 'the single broker restarted mid-stream',
    run: (infra, size, log) => withCleanup(async cleanup => {
      const bootAt = Date.now()
      const kafka: KafkaCluster = await startKafka({ nodes: 1, port: 0 })
      cleanup.add(() => kafka.stop())
      log(`private broker ${kafka.bootstrap} ready in ${Date.now() - bootAt} ms`)
      const s = await stage(cleanup, size, { brokers: kafka.bootstrap, redisUrl: infra.redisUrl, sharedKafka: false, sharedRedis: true, instances: 1 }, log)
      const gw = s.gateways[0] as GatewayProcess
      return await countOn(s, size, log, SCENARIOS['broker-restart'].title(size), () => [gw.url], {
        triggers: [{
          name: 'broker stopped (SIGTERM) and started again',
          kind: 'broker',
          when: { accepted: 0.3 },
          run: async ({ log }) => {
            const t0 = Date.now()
            await kafka.stopNode(0)
            log(`broker stopped in ${Date.now() - t0} ms`)
            await kafka.startNode(0)
            // produce requests may be cut (and retried inside the gateway) until the broker serves again
            const back = performance.now()
            log(`broker back after ${Date.now() - t0} ms`)
            await waitGroupRunning(gw.url, s.groupId, s.topic, size.partitions, [gw.clientId])
            return { windowEnd: await waitCommitAfter(kafka.bootstrap, s.groupId, s.topic, s.receiver, back), writeWindowEnd: back }
          }
        }]
      })
    })
  },

  'broker-loss': {
    title: () => 'three brokers (replication 3, min.insync.replicas 2, acks -1), one SIGKILLed',
    run: (infra, size, log) => withCleanup(async cleanup => {
      const bootAt = Date.now()
      const kafka: KafkaCluster = await startKafka({ nodes: 3, port: 0 })
      cleanup.add(async () => {
        // killing each node first makes stop() immediate (no controlled shutdown against a dead quorum)
        for (let i = 0; i < 3; i++) await kafka.killNode(i).catch(() => undefined)
        await kafka.stop()
      })
      log(`private 3-broker cluster ${kafka.bootstrap} ready in ${Date.now() - bootAt} ms`)
      const s = await stage(cleanup, size, {
        brokers: kafka.bootstrap,
        redisUrl: infra.redisUrl,
        sharedKafka: false,
        sharedRedis: true,
        instances: 1,
        topic: { replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }
      }, log)
      const gw = s.gateways[0] as GatewayProcess
      return await countOn(s, size, log, SCENARIOS['broker-loss'].title(size), () => [gw.url], {
        triggers: [{
          name: 'SIGKILL of the group coordinator\'s broker',
          kind: 'broker',
          when: { accepted: 0.3, handled: 0.25 },
          run: async ({ log }) => {
            const node = await coordinatorNode(kafka.bootstrap)
            await kafka.killNode(node)
            const killed = performance.now()
            log(`killed broker ${node} (the group coordinator)`)
            // produce requests may be cut or time out (and be retried inside the gateway) until the partitions
            // have live leaders and the dead broker is out of every ISR (acks -1 waits for it until then)
            const [healed, end] = await Promise.all([
              waitIsrWithout(kafka.bootstrap, s.topic, node),
              waitCommitAfter(kafka.bootstrap, s.groupId, s.topic, s.receiver, killed)
            ])
            log(`broker ${node} out of every ISR ${Math.round(healed - killed)} ms after the kill; ` +
              `a record handled after the kill committed ${Math.round(end - killed)} ms after it`)
            await waitGroupRunning(gw.url, s.groupId, s.topic, size.partitions, [gw.clientId])
            return { windowEnd: end, writeWindowEnd: healed }
          }
        }]
      })
    })
  },

  'redis-restart': {
    title: () => 'Redis restarted mid-stream (its data lost)',
    run: (infra, size, log) => withCleanup(async cleanup => {
      const redis: LocalRedis = await startRedis({ port: 0 })
      cleanup.add(() => redis.stop())
      const s = await stage(cleanup, size, { brokers: infra.brokers, redisUrl: redis.url, sharedKafka: true, sharedRedis: false, instances: 1 }, log)
      const gw = s.gateways[0] as GatewayProcess
      return await countOn(s, size, log, SCENARIOS['redis-restart'].title(size), () => [gw.url], {
        triggers: [{
          name: 'Redis stopped and started again (empty)',
          kind: 'redis',
          when: { accepted: 0.3 },
          run: async ({ producer, log }) => {
            const stoppedAt = performance.now()
            await redis.stop()
            // down until the gateway has refused a few POSTs for it (bounded)
            await waitUntil('POSTs refused while Redis is down', () =>
              producer.ledger.filter(m => m.attempts.some(a => a.start >= stoppedAt && a.outcome.includes('GW_REDIS_UNAVAILABLE'))).length >= 3, 15_000, 20)
              .catch(() => undefined)
            await redis.start()
            const back = performance.now()
            log(`Redis back after ${Math.round(back - stoppedAt)} ms`)
            await waitGroupRunning(gw.url, s.groupId, s.topic, size.partitions, [gw.clientId])
            return { windowEnd: await waitCommitAfter(infra.brokers, s.groupId, s.topic, s.receiver, back) }
          }
        }]
      })
    })
  }
}

export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[]
