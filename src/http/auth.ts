import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ApiKey, Scope } from '../config/api-keys.js'
import { AppError } from '../errors.js'
import { sendError } from './error-handler.js'
import { namedTopic, routeScope, type NamedTopic } from './scopes.js'

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/**
 * The index of the key in `keyDigests` that `presented` equals, or -1. Both sides are hashed to equal
 * length and every key is compared (no early exit), so timing reveals neither which key matched nor how
 * much of it.
 */
export function matchApiKey (presented: string, keyDigests: Buffer[]): number {
  const p = digest(presented)
  let found = -1
  for (let i = 0; i < keyDigests.length; i++) {
    if (timingSafeEqual(p, keyDigests[i] as Buffer) && found < 0) found = i
  }
  return found
}

/** True when `presented` equals one of the keys (see matchApiKey). */
export function matchesApiKey (presented: string, keyDigests: Buffer[]): boolean {
  return matchApiKey(presented, keyDigests) >= 0
}

/** A configured key as the hook checks it: scopes as a set, topic globs compiled. */
interface Principal {
  scopes: ReadonlySet<Scope>
  /** undefined: every topic. */
  topics: RegExp[] | undefined
  globs: readonly string[]
}

const globPattern = (glob: string): RegExp => new RegExp(`^${glob.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`)

function principal (key: ApiKey): Principal {
  return { scopes: new Set(key.scopes), topics: key.topics?.map(globPattern), globs: key.topics ?? [] }
}

const isDocsRoute = (url: string | undefined): boolean => url === '/openapi.json' || url === '/docs' || url?.startsWith('/docs/') === true

function unauthorized (reply: FastifyReply, header: string): FastifyReply {
  reply.header('www-authenticate', 'Bearer')
  return sendError(reply, new AppError(401, 'GW_UNAUTHORIZED',
    header === '' ? 'missing Authorization: Bearer <api key>' : 'invalid API key',
    { details: [{ field: 'header/authorization', rule: 'apiKey', message: 'a valid Bearer API key is required' }] }))
}

const missingScope = (request: FastifyRequest, scope: Scope): AppError =>
  new AppError(403, 'GW_FORBIDDEN', `this API key lacks the "${scope}" scope, which ${request.method} ${request.routeOptions.url ?? ''} needs`,
    { details: [{ field: 'header/authorization', rule: 'scope', message: `the "${scope}" scope is required`, scope }] })

/** The first topic `who` may not use, as a 403 naming it and the key's globs. */
function refusedTopic (who: Principal, named: NamedTopic[]): AppError | undefined {
  const patterns = who.topics
  if (patterns === undefined) return undefined
  const refused = named.find(n => !patterns.some(p => p.test(n.topic)))
  if (refused === undefined) return undefined
  const message = `this API key may not use topic "${refused.topic}" (its topics: ${who.globs.join(', ')})`
  return new AppError(403, 'GW_FORBIDDEN', `${refused.field}: ${message}`,
    { details: [{ field: refused.field, rule: 'topicScope', message, topic: refused.topic }] })
}

export interface ApiKeyAuthOptions {
  /** DOCS_PUBLIC: /docs and /openapi.json need no key. */
  docsPublic?: boolean
}

/**
 * Bearer API keys on every route but /health/* (and the docs with DOCS_PUBLIC), then each route's scope
 * and topics (src/http/scopes.ts). The gateway runs open (with a warning) when no keys are set.
 */
export function installApiKeyAuth (app: FastifyInstance, apiKeys: ApiKey[], options: ApiKeyAuthOptions = {}): void {
  if (apiKeys.length === 0) {
    app.log.warn('API_KEYS is not set: the gateway accepts unauthenticated requests')
    return
  }
  const keyDigests = apiKeys.map(k => digest(k.key))
  const principals = apiKeys.map(principal)
  /** Who sent each request in flight, for the body-topic check after validation. */
  const senders = new WeakMap<FastifyRequest, Principal>()

  app.addHook('onRequest', async (request, reply) => {
    // decided on the matched route, not the raw URL: `/health/../consumers` must not pass as a health probe
    const url = request.routeOptions.url
    if (url?.startsWith('/health/') === true) return
    if (options.docsPublic === true && isDocsRoute(url)) return
    const header = request.headers.authorization ?? ''
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
    const who = match?.[1] === undefined ? undefined : principals[matchApiKey(match[1], keyDigests)]
    if (who === undefined) return unauthorized(reply, header)
    const policy = routeScope(request)
    if (policy === undefined) return
    if (!who.scopes.has(policy.scope)) return sendError(reply, missingScope(request, policy.scope))
    if (policy.paramTopic === true) {
      const refused = refusedTopic(who, namedTopic('params/topic', (request.params as Record<string, unknown>).topic))
      if (refused !== undefined) return sendError(reply, refused)
    }
    if (policy.bodyTopics !== undefined || policy.queryTopics !== undefined) senders.set(request, who)
  })

  app.addHook('preHandler', async (request) => {
    const who = senders.get(request)
    const policy = routeScope(request)
    if (who === undefined || policy === undefined) return
    const named = [...policy.bodyTopics?.(request.body) ?? [], ...policy.queryTopics?.(request.query) ?? []]
    const refused = refusedTopic(who, named)
    if (refused !== undefined) throw refused
  })
}
