/**
 * HTTP to the webhooks goes through one undici Agent: keep-alive pooling with at most
 * `connectionsPerOrigin` connections per origin; no redirect interceptor, so 3xx answers come back as
 * failures and are never followed. With blocked addresses, names are resolved through a guarded lookup
 * that refuses them. Each attempt is bounded by the webhook's timeout (connect + headers + body).
 * https trusts the configured CAs too and presents the client certificate when there is one.
 */
import type { ConnectionOptions } from 'node:tls'
import { Agent, request } from 'undici'
import { guardedLookup } from '../url-policy.js'
import { AbortedError, type Active } from './active.js'
import type { PreparedWebhook } from './prepared-webhook.js'
import { failedResponseOutcome, requestErrorOutcome, statusText, type AttemptOutcome } from './response.js'

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

/** One HTTP attempt. Throws AbortedError when the delivery was stopped during it. */
export async function attempt (agent: Agent, p: PreparedWebhook, headers: Record<string, string>, body: string, a: Active): Promise<AttemptOutcome> {
  if (p.urlProblem !== undefined) return { kind: 'error', error: p.urlProblem, permanent: true, detail: p.urlProblem }
  if (a.stopReason !== undefined) throw new AbortedError('aborted')
  const ac = new AbortController()
  a.attempt = ac
  let timedOut = false
  const timer = setTimeout(() => { timedOut = true; ac.abort(new Error('timeout')) }, p.timeoutMs)
  try {
    const res = await request(p.url, {
      dispatcher: agent,
      method: 'POST',
      headers,
      body,
      signal: ac.signal,
      headersTimeout: p.timeoutMs,
      bodyTimeout: p.timeoutMs
    })
    const status = res.statusCode
    // the fast path stays in this function: no further async step per delivered record
    if (status >= 200 && status < 300) {
      await res.body.dump().catch(() => {})
      return { kind: 'response', status, detail: statusText(status) }
    }
    return await failedResponseOutcome(res, p.scrub)
  } catch (err) {
    if (a.stopReason !== undefined) throw new AbortedError('aborted')
    return requestErrorOutcome(err, timedOut, p.timeoutMs, p.scrub)
  } finally {
    clearTimeout(timer)
    a.attempt = undefined
  }
}

/** In-flight requests must have been aborted: gives sockets a moment to close cleanly, then forces them. */
export async function closeAgent (agent: Agent): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const forced = new Promise<'forced'>(resolve => { timer = setTimeout(() => resolve('forced'), 2000); timer.unref() })
  const how = await Promise.race([agent.close().then(() => 'closed' as const, () => 'closed' as const), forced])
  clearTimeout(timer)
  if (how === 'forced') await agent.destroy().catch(() => {})
}
