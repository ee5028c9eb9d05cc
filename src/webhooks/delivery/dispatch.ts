/**
 * HTTP to the webhooks goes through one undici Agent: keep-alive pooling with at most
 * `connectionsPerOrigin` connections per origin; no redirect interceptor, so 3xx answers come back as
 * failures and are never followed. With blocked addresses, names are resolved through a guarded lookup
 * that refuses them. Each attempt is bounded by the webhook's timeout (connect + headers + body).
 * https trusts the configured CAs too and presents the client certificate when there is one.
 */
import type { ConnectionOptions } from 'node:tls'
import { Agent } from 'undici'
import { guardedLookup } from '../url-policy.js'
import { AbortedError, type Active } from './active.js'
import type { PreparedWebhook } from './prepared-webhook.js'
import { AttemptHandler } from './attempt-handler.js'
import type { AttemptOutcome } from './response.js'

/** Resolved from DelivererDeps (where the defaults are). */
export interface AgentOptions {
  connectionsPerOrigin: number
  keepAliveTimeoutMs: number
  blockedAddresses: readonly string[]
  /** Trusted CAs and client certificate for https (WEBHOOK_CA_FILE, WEBHOOK_CLIENT_*); Node's defaults when undefined. */
  tls: Pick<ConnectionOptions, 'ca' | 'cert' | 'key'> | undefined
}

export function createAgent (options: AgentOptions): Agent {
  const blocked = options.blockedAddresses
  return new Agent({
    connections: options.connectionsPerOrigin,
    pipelining: 1,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    keepAliveMaxTimeout: Math.max(options.keepAliveTimeoutMs, 60_000),
    connect: { ...options.tls, ...(blocked.length > 0 ? { lookup: guardedLookup(blocked) } : {}) }
  })
}

/**
 * One HTTP attempt, as an undici dispatch with its own handler: no response stream, promise chain or
 * abort signal per request (the request API's), which the one-request-per-record path pays for per
 * record. Throws AbortedError when the delivery was stopped during it.
 */
export function attempt (agent: Agent, p: PreparedWebhook, headers: Record<string, string>, body: Buffer, a: Active): Promise<AttemptOutcome> {
  if (p.urlProblem !== undefined) return Promise.resolve({ kind: 'error', error: p.urlProblem, permanent: true, detail: p.urlProblem })
  if (a.stopReason !== undefined) return Promise.reject(new AbortedError('aborted'))
  return new Promise((resolve, reject) => {
    const h = new AttemptHandler(p, a, resolve, reject)
    a.attempt = h
    try {
      agent.dispatch({ origin: p.origin, path: p.path, method: 'POST', headers, body, headersTimeout: p.timeoutMs, bodyTimeout: p.timeoutMs }, h)
    } catch (err) {
      h.onResponseError(undefined, err as Error)
    }
  })
}

/** In-flight requests must have been aborted: gives sockets a moment to close cleanly, then forces them. */
export async function closeAgent (agent: Agent): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const forced = new Promise<'forced'>(resolve => { timer = setTimeout(() => resolve('forced'), 2000); timer.unref() })
  const how = await Promise.race([agent.close().then(() => 'closed' as const, () => 'closed' as const), forced])
  clearTimeout(timer)
  if (how === 'forced') await agent.destroy().catch(() => {})
}
