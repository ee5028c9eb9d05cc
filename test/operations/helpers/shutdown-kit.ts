/** Shared by the shutdown tests: a real server process, a webhook receiver, Kafka and Redis handles. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Redis } from 'ioredis'
import kafkajs, { type Admin, type Kafka } from 'kafkajs'
import type { Test } from 'tap'
import { uniqueName, waitFor } from '../../helpers/build.js'
import { spawnGateway, type GatewayProcess, type SpawnOptions } from '../../consumers/helpers/child.js'
import { createTopicsAndWait } from '../../../src/kafka/create-topics.js'

export const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0'
export const FAST_CONSUMER = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, rebalanceTimeoutMs: 10_000, maxWaitTimeMs: 100 }
export const SHUTDOWN_TIMEOUT_MS = 20_000

export interface Gateway extends GatewayProcess {
  base: string
  /** The JSON log lines the process wrote so far. */
  lines: () => Array<Record<string, unknown>>
}

export function childEnv (key: string, clientId: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: BROKERS,
    REDIS_URL,
    REGISTRY_KEY: key,
    KAFKA_CLIENT_ID: clientId,
    REGISTRY_HEARTBEAT_MS: '500',
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...extra
  }
}

/** Spawns a server and waits until it listens (its port is read from Fastify's "Server listening" line). */
export async function startGateway (t: Test, env: Record<string, string>, spawnOptions: SpawnOptions = {}): Promise<Gateway> {
  const gw = spawnGateway(t, env, spawnOptions)
  let exited = false
  void gw.exited.then(() => { exited = true })
  const lines = (): Array<Record<string, unknown>> => gw.output().split('\n')
    .filter(l => l.startsWith('{'))
    .map(l => { try { return JSON.parse(l) as Record<string, unknown> } catch { return {} } })
  const port = await waitFor('the server to listen', () => {
    if (exited) throw new Error(`the server exited early:\n${gw.output()}`)
    const m = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(gw.output())
    return m?.[1]
  }, 45_000, 50)
  return { ...gw, base: `http://127.0.0.1:${port}`, lines }
}

export interface Hook {
  url: string
  /** Request bodies' `value`s, in arrival order (2xx answers only, or every arrival for a hanging hook). */
  values: string[]
  /** Every request's `value` as it arrives (before any answer). */
  arrivals: string[]
}

/** A node:http webhook receiver on port 0: answers 204 after `delayMs`, or never when `hang`. */
export async function startHook (t: Test, opts: { delayMs?: number, hang?: boolean } = {}): Promise<Hook> {
  const hook: Hook = { url: '', values: [], arrivals: [] }
  const hanging = new Set<ServerResponse>()
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { value: unknown }
      const value = typeof body.value === 'string' ? body.value : JSON.stringify(body.value)
      hook.arrivals.push(value)
      if (opts.hang === true) {
        hook.values.push(value)
        hanging.add(res)
        return
      }
      setTimeout(() => {
        hook.values.push(value)
        res.statusCode = 204
        res.end()
      }, opts.delayMs ?? 0)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  hook.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
  t.teardown(() => new Promise<void>(resolve => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  return hook
}

export async function kafkaFor (t: Test): Promise<{ kafka: Kafka, admin: Admin }> {
  const kafka = new kafkajs.Kafka({ clientId: uniqueName('shutdown-test'), brokers: BROKERS.split(','), logLevel: kafkajs.logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  return { kafka, admin }
}

export async function redisFor (t: Test, key: string): Promise<Redis> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
  t.teardown(async () => {
    const found = await redis.keys(`${key}*`)
    if (found.length > 0) await redis.del(...found)
    redis.disconnect()
  })
  return redis
}

export async function createTopic (admin: Admin, partitions: number): Promise<string> {
  const topic = uniqueName('shutdown')
  await createTopicsAndWait(admin, { topics: [{ topic, numPartitions: partitions }] })
  return topic
}

export async function defineGroup (gw: Gateway, groupId: string, topic: string, webhook: Record<string, unknown>, consumer: Record<string, number> = FAST_CONSUMER): Promise<void> {
  const res = await fetch(`${gw.base}/consumer-groups`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ [groupId]: { isPartitionAssign: false, fromBeginning: true, topics: [{ name: topic }], webhook, consumer } })
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`POST /consumer-groups answered ${res.status}: ${text}`)
}

/** POST /messages with `values` as one batch; the body is read, so the connection is free again. */
export async function postValues (gw: Gateway, topic: string, values: string[]): Promise<{ status: number, body: string }> {
  const res = await fetch(`${gw.base}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ topic, messages: values.map(value => ({ value })) })
  })
  return { status: res.status, body: await res.text() }
}

/** Waits until the instance's registry entry lists the group (it joined and was assigned partitions). */
export async function waitForJoin (redis: Redis, key: string, clientId: string, groupId: string): Promise<void> {
  await waitFor(`${clientId} to join ${groupId}`, async () => (await redis.hget(key, clientId))?.includes(groupId), 45_000, 100)
}

/** Reads `topic` from the beginning until every value of `want` was seen; returns every value read. */
export async function readBack (kafka: Kafka, topic: string, want: Iterable<string>, timeoutMs = 30_000): Promise<Set<string>> {
  const seen = new Set<string>()
  const consumer = kafka.consumer({ groupId: uniqueName('readback'), maxWaitTimeInMs: 100 })
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({ eachMessage: async ({ message }) => { if (message.value !== null) seen.add(message.value.toString('utf8')) } })
    const wanted = [...want]
    await waitFor(`all ${wanted.length} accepted records read back from ${topic}`, () => wanted.every(v => seen.has(v)), timeoutMs, 100).catch(() => {})
  } finally {
    await consumer.disconnect()
  }
  return seen
}

/** The `status` of a readiness body (`ready`, `unavailable`, `shutting-down`), if it has one. */
export function readyStatus (body: string): string | undefined {
  try {
    const status = (JSON.parse(body) as { status?: unknown }).status
    return typeof status === 'string' ? status : undefined
  } catch {
    return undefined
  }
}

export function isConnectionError (err: unknown): boolean {
  return err instanceof TypeError // undici's fetch rejects with TypeError('fetch failed', { cause })
}
