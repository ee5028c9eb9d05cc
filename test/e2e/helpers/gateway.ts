/** Gateway-level helpers for end-to-end tests: produce with POST /messages, define groups, read status and metrics. */
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { Test } from 'tap'
import type { PartitionStatus, RunnerStatus } from '../../../src/consumers/runner/status.js'
import { build, uniqueName } from '../../helpers/build.js'

export { FAST_CONSUMER, createTopic, registryKey } from '../../consumers/helpers/kafka.js'

/** A gateway with a short registry heartbeat (status and lag refreshed every 500 ms). */
export async function e2eGateway (t: Test, opts: { registryKey?: string, clientId?: string, env?: Record<string, string>, logger?: Logger } = {}): Promise<FastifyInstance> {
  const env: Record<string, string> = { REGISTRY_HEARTBEAT_MS: '500', ...opts.env }
  if (opts.registryKey !== undefined) env.REGISTRY_KEY = opts.registryKey
  env.KAFKA_CLIENT_ID = opts.clientId ?? uniqueName('gw')
  return await build(t, env, opts.logger)
}

export interface MessageIn {
  value: unknown
  valueEncoding?: 'json' | 'text' | 'base64'
  key?: string | null
  keyEncoding?: 'text' | 'base64'
  headers?: Record<string, string>
  partitions?: number[]
}

export interface Produced { index: number, topic: string, partition: number, offset: string }

/** POST /messages (batch form, chunks of `chunk`); throws unless 200. Returns where every record landed. */
export async function postMessages (app: FastifyInstance, topic: string, messages: MessageIn[], opts: { requestId?: string, chunk?: number } = {}): Promise<Produced[]> {
  const out: Produced[] = []
  const chunk = opts.chunk ?? 500
  for (let start = 0; start < messages.length; start += chunk) {
    const res = await app.inject({
      method: 'POST',
      url: '/messages',
      headers: opts.requestId !== undefined ? { 'x-request-id': opts.requestId } : {},
      payload: { topic, messages: messages.slice(start, start + chunk) }
    })
    if (res.statusCode !== 200) throw new Error(`POST /messages answered ${res.statusCode}: ${res.body}`)
    const body = res.json() as { results: Produced[] }
    for (const r of body.results) out.push({ ...r, index: r.index + start })
  }
  return out
}

/** POST /consumer-groups; throws unless 2xx. */
export async function defineGroup (app: FastifyInstance, groupId: string, def: Record<string, unknown>): Promise<void> {
  const res = await app.inject({ method: 'POST', url: '/consumer-groups', payload: { [groupId]: def } })
  if (res.statusCode >= 300) throw new Error(`POST /consumer-groups answered ${res.statusCode}: ${res.body}`)
}

/** The JSON of GET /consumer-groups/{id}: the runner's status types, as the route serialises them. */
export type PartitionView = PartitionStatus
export type InstanceView = Omit<RunnerStatus, 'updatedAt'>

export interface GroupViewJson {
  groupId: string
  instances: Record<string, InstanceView>
}

export async function groupView (app: FastifyInstance, groupId: string): Promise<GroupViewJson> {
  const res = await app.inject({ method: 'GET', url: `/consumer-groups/${groupId}` })
  if (res.statusCode !== 200) throw new Error(`GET /consumer-groups/${groupId} answered ${res.statusCode}: ${res.body}`)
  return res.json() as GroupViewJson
}

/** Prometheus text of GET /metrics. */
export async function metricsText (app: FastifyInstance): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/metrics' })
  if (res.statusCode !== 200) throw new Error(`GET /metrics answered ${res.statusCode}`)
  return res.body
}

/** Sum of the samples of `name` whose labels include `labels` (undefined when there is none). */
export function sample (text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`)
  let sum: number | undefined
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
    const labelText = line.startsWith(`${name}{`) ? line.slice(name.length + 1, line.lastIndexOf('}')) : ''
    const parts = labelText === '' ? [] : labelText.split(/,(?=[a-z_]+=")/)
    if (!want.every(w => parts.includes(w))) continue
    sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}
