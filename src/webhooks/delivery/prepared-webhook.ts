/**
 * A webhook's settings, checked and decoded once per WebhookConfig object (the consumer hands the same
 * object for every record of a group): the URL checked against the allow-list and blocked addresses again
 * at delivery, the signing keys, the custom headers that are valid, the scrubber, and its retry policies.
 */
import type { KeyObject } from 'node:crypto'
import type { Logger } from 'pino'
import { resolvePolicy, type BackoffOptions, type RetryPolicy } from '../retry-policy.js'
import { secretKey } from '../signing.js'
import type { WebhookConfig } from '../types.js'
import { headerProblem, webhookUrlProblem } from '../url-policy.js'
import { errorText } from './error-text.js'
import { REQUEST_ID_HEADER } from './request.js'
import { scrubberFor } from './scrub.js'

export interface PreparedWebhook {
  url: string
  /** `scheme://host[:port]` and path + query of `url`: what an undici dispatch takes. */
  origin: string
  path: string
  /** Why nothing can be sent to this URL (bad scheme, not allowed): every attempt fails permanently. */
  urlProblem: string | undefined
  /** origin + path: what logs say (never the query string). */
  logUrl: string
  keys: KeyObject[]
  headers: Record<string, string>
  hasRequestIdHeader: boolean
  timeoutMs: number
  /** Replaces this webhook's own secrets in text its receiver sent back (an error page echoing our headers). */
  scrub: (text: string) => string
}

/** The prepared webhooks and policies, and what preparing them needs. */
export interface PreparedWebhooks {
  readonly prepared: WeakMap<WebhookConfig, PreparedWebhook>
  readonly policies: WeakMap<WebhookConfig, { withDlq: RetryPolicy, withoutDlq: RetryPolicy }>
  readonly allowedHosts: readonly string[]
  readonly blockedAddresses: readonly string[]
  readonly defaultTimeoutMs: number
  readonly backoff: BackoffOptions
  readonly log: Logger
}

export function createPreparedWebhooks (settings: Omit<PreparedWebhooks, 'prepared' | 'policies'>): PreparedWebhooks {
  return { ...settings, prepared: new WeakMap(), policies: new WeakMap() }
}

export function prepareWebhook (cache: PreparedWebhooks, webhook: WebhookConfig): PreparedWebhook {
  const hit = cache.prepared.get(webhook)
  if (hit !== undefined) return hit
  let logUrl = '(invalid URL)'
  let origin = ''
  let path = '/'
  try {
    const u = new URL(webhook.url)
    logUrl = `${u.origin}${u.pathname}`
    origin = u.origin
    path = `${u.pathname}${u.search}`
  } catch {
    // reported as urlProblem below
  }
  const problem = webhookUrlProblem(webhook.url, cache.allowedHosts, cache.blockedAddresses)
  const urlProblem = problem === undefined ? undefined : `webhook URL refused: ${problem}`
  const keys: KeyObject[] = []
  for (const [i, secret] of (webhook.secrets ?? []).entries()) {
    try {
      keys.push(secretKey(secret))
    } catch (err) {
      cache.log.warn({ url: logUrl, secretIndex: i, err: errorText(err) }, 'webhook secret ignored')
    }
  }
  const headers: Record<string, string> = {}
  let hasRequestIdHeader = false
  for (const [name, value] of Object.entries(webhook.headers ?? {})) {
    if (headerProblem(name, value) !== undefined) {
      cache.log.warn({ url: logUrl, header: name }, 'webhook header ignored: invalid or reserved')
      continue
    }
    headers[name] = value
    if (name.toLowerCase() === REQUEST_ID_HEADER) hasRequestIdHeader = true
  }
  const p: PreparedWebhook = { url: webhook.url, origin, path, urlProblem, logUrl, keys, headers, hasRequestIdHeader, timeoutMs: webhook.timeoutMs ?? cache.defaultTimeoutMs, scrub: scrubberFor(webhook) }
  cache.prepared.set(webhook, p)
  return p
}

/** The webhook's retry policy: one that can give up (a dead-letter topic is configured) or one that never does. */
export function policyOf (cache: PreparedWebhooks, webhook: WebhookConfig, canGiveUp: boolean): RetryPolicy {
  let hit = cache.policies.get(webhook)
  if (hit === undefined) {
    hit = { withDlq: resolvePolicy(webhook, true, cache.backoff), withoutDlq: resolvePolicy(webhook, false, cache.backoff) }
    cache.policies.set(webhook, hit)
  }
  return canGiveUp ? hit.withDlq : hit.withoutDlq
}
