import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { build, uniqueName, waitFor } from '../../helpers/build.js'
import { createTopicsAndWait } from '../../../src/kafka/create-topics.js'

/** Consumer settings that keep group joins and failovers fast in tests (the broker's minimum session is 6 s). */
export const FAST_CONSUMER = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, rebalanceTimeoutMs: 10_000, maxWaitTimeMs: 100 }

/** Test env for gateway instances sharing one registry key with a short heartbeat. */
export function gatewayEnv (registryKey: string, clientId: string, extra: Record<string, string> = {}): Record<string, string> {
  return { REGISTRY_KEY: registryKey, KAFKA_CLIENT_ID: clientId, REGISTRY_HEARTBEAT_MS: '500', ...extra }
}

export async function gateway (t: Test, registryKey: string, clientId = uniqueName('gw'), extra: Record<string, string> = {}): Promise<FastifyInstance> {
  return await build(t, gatewayEnv(registryKey, clientId, extra))
}

export async function createTopic (app: FastifyInstance, partitions: number, prefix = 'topic'): Promise<string> {
  const topic = uniqueName(prefix)
  const admin = await app.kafka.connectedAdmin()
  await createTopicsAndWait(admin, { topics: [{ topic, numPartitions: partitions }] })
  return topic
}

/** Produces `count` records spread evenly over `partitions`, values `<prefix>-<i>`; returns the values. */
export async function produce (app: FastifyInstance, topic: string, count: number, partitions: number, prefix = 'm'): Promise<string[]> {
  const producer = await app.kafka.connectedProducer()
  const values = Array.from({ length: count }, (_v, i) => `${prefix}-${i}`)
  await producer.send({ topic, messages: values.map((value, i) => ({ value, partition: i % partitions })) })
  return values
}

export function groupBody (groupId: string, def: Record<string, unknown>): Record<string, unknown> {
  return { [groupId]: { fromBeginning: true, consumer: FAST_CONSUMER, ...def } }
}

/** POSTs definitions and expects 2xx. */
export async function defineGroups (app: FastifyInstance, body: Record<string, unknown>, query = ''): Promise<{ statusCode: number, json: () => Record<string, unknown> }> {
  const res = await app.inject({ method: 'POST', url: `/consumer-groups${query}`, payload: body })
  if (res.statusCode >= 300) throw new Error(`POST /consumer-groups answered ${res.statusCode}: ${res.body}`)
  return res
}

export type RegistryJson = Record<string, Record<string, { groupId: string, memberId: string, groupProtocol: string, partitions?: number[], groups?: Array<{ groupId: string, partitions: number[], groupProtocol: string }> }>>

export async function registry (app: FastifyInstance, query = ''): Promise<RegistryJson> {
  const res = await app.inject({ method: 'GET', url: `/consumers${query}` })
  if (res.statusCode !== 200) throw new Error(`GET /consumers answered ${res.statusCode}: ${res.body}`)
  return res.json() as RegistryJson
}

/** Partitions of `groupId` on `topic` per clientId, from GET /consumers. */
export async function assignment (app: FastifyInstance, groupId: string, topic: string): Promise<Record<string, number[]>> {
  const reg = await registry(app, `?groupId=${groupId}&topic=${topic}`)
  const out: Record<string, number[]> = {}
  for (const [clientId, entry] of Object.entries(reg)) {
    const part = entry[topic]
    if (part?.partitions !== undefined) out[clientId] = part.partitions
  }
  return out
}

/** Waits until the group's partitions on `topic` are spread over exactly `clients` with `total` partitions in all. */
export async function waitForAssignment (app: FastifyInstance, groupId: string, topic: string, clients: string[], total: number, timeoutMs = 30_000): Promise<Record<string, number[]>> {
  return await waitFor(`group ${groupId} assigned over ${clients.join(', ')}`, async () => {
    const a = await assignment(app, groupId, topic)
    const ids = Object.keys(a).sort()
    const count = Object.values(a).reduce((n, p) => n + p.length, 0)
    return ids.join(',') === [...clients].sort().join(',') && count === total && Object.values(a).every(p => p.length > 0) ? a : undefined
  }, timeoutMs, 100)
}

/** A fresh REGISTRY_KEY whose Redis keys are deleted when the test ends. */
export function registryKey (t: Test): string {
  const key = uniqueName('registry')
  t.teardown(async () => {
    const { Redis } = await import('ioredis')
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0', { lazyConnect: true, maxRetriesPerRequest: 1 })
    try {
      await redis.connect()
      const found = await redis.keys(`${key}*`)
      if (found.length > 0) await redis.del(...found)
    } catch {
      // best effort
    } finally {
      redis.disconnect()
    }
  })
  return key
}
