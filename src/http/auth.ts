import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { AppError } from '../errors.js'
import { sendError } from './error-handler.js'

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/**
 * True when `presented` equals one of `keys`. Both sides are hashed to equal length and every key is
 * compared (no early exit), so timing reveals neither which key matched nor how much of it.
 */
export function matchesApiKey (presented: string, keyDigests: Buffer[]): boolean {
  const p = digest(presented)
  let ok = false
  for (const k of keyDigests) ok = timingSafeEqual(p, k) || ok
  return ok
}

/** Bearer API keys on every route but /health/*; the gateway runs open (with a warning) when none are set. */
export function installApiKeyAuth (app: FastifyInstance, apiKeys: string[]): void {
  if (apiKeys.length === 0) {
    app.log.warn('API_KEYS is not set: the gateway accepts unauthenticated requests')
    return
  }
  const keyDigests = apiKeys.map(digest)
  app.addHook('onRequest', async (request, reply) => {
    // decided on the matched route, not the raw URL: `/health/../consumers` must not pass as a health probe
    if (request.routeOptions.url?.startsWith('/health/') === true) return
    const header = request.headers.authorization ?? ''
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (match?.[1] === undefined || !matchesApiKey(match[1], keyDigests)) {
      reply.header('www-authenticate', 'Bearer')
      return sendError(reply, new AppError(401, 'GW_UNAUTHORIZED',
        header === '' ? 'missing Authorization: Bearer <api key>' : 'invalid API key',
        { details: [{ field: 'header/authorization', rule: 'apiKey', message: 'a valid Bearer API key is required' }] }))
    }
  })
}
