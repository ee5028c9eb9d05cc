/**
 * What every fault scenario (scenarios.ts) sets up: a topic, a counting receiver, real gateway processes
 * (scripts/lib/launch/gateway.ts) running one consumer group, and the counting run over them; torn down
 * in reverse order whatever happens.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { Redis } from 'ioredis'
import { startGateway, type GatewayProcess } from '../../scripts/lib/launch/gateway.js'
import { waitUntil } from '../../scripts/lib/launch/wait.js'
import { uniqueName } from '../helpers/names.js'
import { runCounting, type CountingOptions } from './counting.js'
import { createTopic, deleteTopics, type TopicOptions } from './kafka.js'
import { startCountingReceiver, type CountingReceiver } from './receiver.js'
import type { Verdict } from './report.js'
import { FAST_CONSUMER, type Log, type ScenarioSize } from './sizes.js'

/** Runs registered cleanups in reverse order; every one runs even if another fails. */
export class Cleanup {
  private readonly fns: Array<() => Promise<unknown> | unknown> = []
  add (fn: () => Promise<unknown> | unknown): void { this.fns.push(fn) }
  async run (): Promise<void> {
    for (const fn of this.fns.splice(0).reverse()) {
      try { await fn() } catch { /* best effort */ }
    }
  }
}

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
    // a loaded machine stalls loops for seconds: no load shedding
    MAX_EVENT_LOOP_DELAY_MS: '0',
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

export interface Stage {
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
  /** The webhook URL the group gets for the receiver's (default: the receiver's own; the chaos soak puts a proxy between). */
  webhookUrl?: (receiverUrl: string) => Promise<string>
}

export async function stage (cleanup: Cleanup, size: ScenarioSize, opts: StageOptions, log: Log): Promise<Stage> {
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
    const gw = await startGateway({ env: gatewayEnv(opts.brokers, opts.redisUrl, registryKey, clientId) })
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
  const webhook = opts.webhookUrl === undefined ? receiver.url : await opts.webhookUrl(receiver.url)
  await defineGroup(first.url, groupId, topic, webhook, size, opts.webhookTimeoutMs ?? 10_000)
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
export async function countOn (s: Stage, size: ScenarioSize, log: Log, fault: string, gateways: () => string[], faults: Pick<CountingOptions, 'triggers' | 'background'>): Promise<Verdict> {
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

export async function withCleanup<T> (fn: (cleanup: Cleanup) => Promise<T>): Promise<T> {
  const cleanup = new Cleanup()
  try {
    return await fn(cleanup)
  } finally {
    await cleanup.run()
  }
}

