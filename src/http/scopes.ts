/**
 * Which API-key scope each route needs, and which topics it names: the one access policy, checked by
 * src/http/auth.ts and written into the OpenAPI descriptions. Routes not listed here (metrics, the API
 * document, Swagger UI, unknown routes) take any valid key; /health/* takes none.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Scope } from '../config/api-keys.js'
import { ErrorSchema } from './schemas.js'

/** A topic a request names, with the field that names it (for the 403). */
export interface NamedTopic { field: string, topic: string }

export interface RouteScope {
  scope: Scope
  /** Topics in the path: checked with the key, before the body is read. */
  paramTopic?: boolean
  /** Topics in the body: checked once it is validated. */
  bodyTopics?: (body: unknown) => NamedTopic[]
  /** Topics in the query string: checked once it is validated. */
  queryTopics?: (query: unknown) => NamedTopic[]
}

const record = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : {})

/** `topic` as a named topic when it is a string (anything else is left to validation). */
export const namedTopic = (field: string, topic: unknown): NamedTopic[] => typeof topic === 'string' ? [{ field, topic }] : []

/** POST /consumer-groups: every topic a definition reads, and an explicit dead-letter topic (the gateway writes to it). */
function definitionTopics (body: unknown): NamedTopic[] {
  return Object.entries(record(body)).flatMap(([groupId, def]) => {
    const d = record(def)
    const topics = Array.isArray(d.topics) ? d.topics : []
    return [
      ...topics.flatMap((t, i) => namedTopic(`body/${groupId}/topics/${i}/name`, record(t).name)),
      ...namedTopic(`body/${groupId}/webhook/deadLetterTopic`, record(d.webhook).deadLetterTopic)
    ]
  })
}

/** `?topics=a,b` (the group event stream). */
function listedTopics (query: unknown): NamedTopic[] {
  const topics = record(query).topics
  return typeof topics === 'string' ? topics.split(',').map(t => t.trim()).filter(t => t !== '').map(topic => ({ field: 'querystring/topics', topic })) : []
}

const TOPIC_PARTITION = '/topics/:topic/partitions/:partition'

/** Pull bodies naming topics: a subscription's list, or `partitions`/`offsets` items (assignments, commits, seeks). */
function pullTopics (body: unknown): NamedTopic[] {
  const b = record(body)
  const topics = Array.isArray(b.topics) ? b.topics.flatMap((t, i) => namedTopic(`body/topics/${i}`, t)) : []
  const items = (key: 'partitions' | 'offsets'): NamedTopic[] => Array.isArray(b[key]) ? b[key].flatMap((p, i) => namedTopic(`body/${key}/${i}/topic`, record(p).topic)) : []
  return [...topics, ...items('partitions'), ...items('offsets')]
}

/** The pull-consumer routes, under the gateway's prefix and Confluent v2's (src/routes/pull*.ts): all `consume`. */
function pullScopes (): Record<string, RouteScope> {
  const out: Record<string, RouteScope> = {
    'POST /consumer-groups/:groupId/instances': { scope: 'consume' },
    'POST /consumers/:groupId': { scope: 'consume' },
    'GET /consumers/:groupId/instances/:instanceId/topics/:topic': { scope: 'consume', paramTopic: true }
  }
  for (const prefix of ['/consumer-groups/:groupId/instances/:instanceId', '/consumers/:groupId/instances/:instanceId']) {
    for (const route of ['DELETE ', 'GET /subscription', 'DELETE /subscription', 'GET /assignments', 'GET /records', 'GET /offsets']) {
      const [method, suffix] = route.split(' ') as [string, string]
      out[`${method} ${prefix}${suffix}`] = { scope: 'consume' }
    }
    for (const suffix of ['/subscription', '/assignments', '/offsets', '/positions', '/positions/beginning', '/positions/end']) {
      out[`POST ${prefix}${suffix}`] = { scope: 'consume', bodyTopics: pullTopics }
    }
  }
  return out
}

/** `METHOD url` (Fastify's route syntax) → what the route needs. */
export const ROUTE_SCOPES: Readonly<Record<string, RouteScope>> = {
  'POST /messages': { scope: 'produce', bodyTopics: body => namedTopic('body/topic', record(body).topic) },
  'POST /consumer-groups': { scope: 'consume', bodyTopics: definitionTopics },
  'GET /consumer-groups': { scope: 'consume' },
  'GET /consumer-groups/:groupId': { scope: 'consume' },
  'GET /consumer-groups/:groupId/events': { scope: 'consume', queryTopics: listedTopics },
  'GET /consumers': { scope: 'consume' },
  'DELETE /consumers': { scope: 'admin' },
  'GET /topics': { scope: 'consume' },
  'POST /topics': { scope: 'admin', bodyTopics: body => namedTopic('body/name', record(body).name) },
  'GET /topics/:topic': { scope: 'consume', paramTopic: true },
  'GET /topics/:topic/events': { scope: 'consume', paramTopic: true },
  'POST /topics/:topic': { scope: 'produce', paramTopic: true },
  [`POST ${TOPIC_PARTITION}`]: { scope: 'produce', paramTopic: true },
  'DELETE /topics/:topic': { scope: 'admin', paramTopic: true },
  [`GET ${TOPIC_PARTITION}/offsets`]: { scope: 'consume', paramTopic: true },
  [`GET ${TOPIC_PARTITION}/records`]: { scope: 'consume', paramTopic: true },
  ...pullScopes()
}

/** The policy of the route `request` matched (HEAD answers like GET). */
export function routeScope (request: FastifyRequest): RouteScope | undefined {
  const method = request.method === 'HEAD' ? 'GET' : request.method
  return ROUTE_SCOPES[`${method} ${request.routeOptions.url ?? ''}`]
}

/** Adds each route's scope to its OpenAPI description and a 403 to its responses (called before routes are registered). */
export function documentScopes (app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    const policy = methods.map(m => ROUTE_SCOPES[`${m} ${route.url}`]).find(p => p !== undefined)
    if (policy === undefined || route.schema === undefined) return
    const topics = policy.paramTopic === true || policy.bodyTopics !== undefined || policy.queryTopics !== undefined ? ' (a key limited to topic globs: one matching every topic the request names)' : ''
    const note = `Needs an API key with the \`${policy.scope}\` scope${topics} (403 GW_FORBIDDEN otherwise).`
    route.schema.description = route.schema.description === undefined ? note : `${route.schema.description}\n\n${note}`
    route.schema.response = { ...(route.schema.response as Record<number, unknown> | undefined), 403: ErrorSchema }
  })
}
