/**
 * A failing receiver's body (and Location header) is kept in logs, group status (GET /consumer-groups
 * `lastError`) and dead letters. Receivers that echo the request (debug error pages) would put the
 * webhook's signing secrets or custom header values (e.g. `Authorization: Bearer …`) there: the scrubber
 * replaces each (whole, each whitespace-separated part, a secret's key without `whsec_`) with `[redacted]`.
 */
import type { WebhookConfig } from '../types.js'

/** Shorter secret fragments are not scrubbed (they would blank out ordinary words of an error body). */
const MIN_SCRUB_LENGTH = 6

export function scrubberFor (webhook: WebhookConfig): (text: string) => string {
  const found = new Set<string>()
  for (const secret of webhook.secrets ?? []) {
    found.add(secret)
    if (secret.startsWith('whsec_')) found.add(secret.slice(6))
  }
  for (const value of Object.values(webhook.headers ?? {})) {
    found.add(value)
    for (const part of value.split(/\s+/)) found.add(part)
  }
  const needles = [...found].filter(n => n.length >= MIN_SCRUB_LENGTH).sort((a, b) => b.length - a.length)
  if (needles.length === 0) return text => text
  return text => needles.reduce((t, n) => (t.includes(n) ? t.split(n).join('[redacted]') : t), text)
}
