/** The pull service's dependencies and state: ONE object that every step of the service is handed. */
import type { Kafka } from 'kafkajs'
import type { Logger } from 'pino'
import { AppError } from '../errors.js'
import type { TopicMetadataCache } from '../kafka/topics.js'
import type { Registry, TopicPart } from '../registry/registry.js'
import type { LocalConsumer } from './local-consumer.js'
import { pullField, type PullStore } from './store.js'
import type { PullInstanceRecord } from './types.js'

export interface PullServiceDeps {
  clientId: string
  kafka: Kafka
  store: PullStore
  registry: Registry
  topics: TopicMetadataCache
  /** Whether the clientId's heartbeat key exists (src/registry/liveness.ts). */
  isAlive: (clientId: string) => Promise<boolean>
  /** This instance's base URL for other instances (GATEWAY_ADVERTISED_URL, or the address it listens on). */
  advertisedUrl: () => string
  /** Whether a webhook consumer group of this id is defined (a pull instance may not join it). */
  webhookGroupDefined: (groupId: string) => Promise<boolean>
  /** How often expired instances are swept (the registry heartbeat). */
  sweepEveryMs: number
  logger: Logger
}

export interface PullContext extends PullServiceDeps {
  readonly log: Logger
  /** The consumers this instance holds, by `<groupId>/<instanceId>`. */
  readonly locals: Map<string, LocalConsumer>
  /** Consumers being (re)built, so concurrent requests build one. */
  readonly starting: Map<string, Promise<LocalConsumer>>
  timer: NodeJS.Timeout | undefined
  closed: boolean
}

export function createPullContext (deps: PullServiceDeps): PullContext {
  return { ...deps, log: deps.logger.child({ component: 'pull' }), locals: new Map(), starting: new Map(), timer: undefined, closed: false }
}

export const notFound = (groupId: string, instanceId: string): AppError =>
  new AppError(404, 'GW_NOT_FOUND', `consumer instance "${instanceId}" of group "${groupId}" does not exist (deleted, or closed after its instanceTimeoutMs without requests)`,
    { details: [{ field: 'params/instanceId', rule: 'exists', message: `no instance "${instanceId}" in group "${groupId}"` }] })

export const localKey = (r: Pick<PullInstanceRecord, 'groupId' | 'instanceId'>): string => pullField(r.groupId, r.instanceId)

/** The registry parts of every pull consumer of `groupId` here (all groups when absent): one member's view per group. */
export function pullParts (ctx: PullContext, groupId?: string): TopicPart[] {
  const byGroup = new Map<string, Map<string, TopicPart>>()
  for (const c of ctx.locals.values()) {
    if (groupId !== undefined && c.groupId !== groupId) continue
    const topics = byGroup.get(c.groupId) ?? new Map<string, TopicPart>()
    byGroup.set(c.groupId, topics)
    for (const p of c.parts()) {
      const seen = topics.get(p.topic)
      topics.set(p.topic, seen === undefined ? { ...p } : { ...seen, partitions: [...new Set([...seen.partitions, ...p.partitions])].sort((a, b) => a - b) })
    }
  }
  return [...byGroup.values()].flatMap(m => [...m.values()])
}

/** Rewrites this instance's registry parts of `groupId` (after a join, a new subscription, a close). */
export function announce (ctx: PullContext, groupId: string): void {
  ctx.registry.setGroup(ctx.clientId, groupId, pullParts(ctx, groupId))
    .catch((err: unknown) => { ctx.log.warn({ err, groupId }, 'could not update the registry for a pull consumer; the next heartbeat rewrites it') })
}
