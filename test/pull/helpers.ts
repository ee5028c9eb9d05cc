/** Pull-consumer test helpers: create, subscribe, poll and commit through HTTP (inject or a real URL). */
import type { FastifyInstance } from 'fastify'
import { request } from 'undici'
import { FAST_CONSUMER } from '../consumers/helpers/kafka.js'

export interface Answer { statusCode: number, body: string, json: () => unknown, headers: Record<string, unknown> }

/** One HTTP call: through app.inject, or to a base URL (a real server or the round-robin proxy). */
export type Call = (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown, headers?: Record<string, string>) => Promise<Answer>

export function injectCall (app: FastifyInstance): Call {
  return async (method, url, body, headers = {}) => {
    const res = await app.inject({ method, url, headers, ...(body !== undefined ? { payload: body as Record<string, unknown> } : {}) })
    return { statusCode: res.statusCode, body: res.body, json: () => res.json(), headers: res.headers }
  }
}

export function urlCall (base: () => string): Call {
  return async (method, url, body, headers = {}) => {
    const res = await request(`${base()}${url}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      headersTimeout: 60_000,
      bodyTimeout: 60_000
    })
    const text = await res.body.text()
    return { statusCode: res.statusCode, body: text, json: () => JSON.parse(text) as unknown, headers: res.headers }
  }
}

export const instanceUrl = (groupId: string, id: string): string => `/consumer-groups/${groupId}/instances/${id}`

/** POST …/instances with fast consumer settings, then subscribe; returns the instance URL. Throws on non-2xx. */
export async function createSubscribed (call: Call, groupId: string, topics: string[], settings: Record<string, unknown> = {}): Promise<string> {
  const created = await call('POST', `/consumer-groups/${groupId}/instances`, { autoOffsetReset: 'earliest', consumer: FAST_CONSUMER, ...settings })
  if (created.statusCode !== 201) throw new Error(`create answered ${created.statusCode}: ${created.body}`)
  const url = instanceUrl(groupId, (created.json() as { instance_id: string }).instance_id)
  const sub = await call('POST', `${url}/subscription`, { topics })
  if (sub.statusCode !== 204) throw new Error(`subscribe answered ${sub.statusCode}: ${sub.body}`)
  return url
}

export interface PolledRecord { topic: string, partition: number, offset: string, value: unknown }

/** One GET …/records; throws unless 200. */
export async function pollOnce (call: Call, url: string, query = 'timeoutMs=2000'): Promise<PolledRecord[]> {
  const res = await call('GET', `${url}/records?${query}`)
  if (res.statusCode !== 200) throw new Error(`poll answered ${res.statusCode}: ${res.body}`)
  return (res.json() as { records: PolledRecord[] }).records
}
