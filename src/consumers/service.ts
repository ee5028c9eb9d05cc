/**
 * What the consumer-group and registry routes do: define groups, list them with their live status per
 * instance, read the registry, and stop consumers (stop-consumers.ts). Redis failures become 503
 * GW_REDIS_UNAVAILABLE.
 */
import { AppError, kafkaUnavailable } from '../errors.js'
import type { LiveEntry, RegistryFilter } from '../registry/registry.js'
import { normalizeDefinition, type GroupDefinitionInput } from './definition.js'
import { checkDefinitions } from './definition-checks.js'
import { declarationView, groupView, type DeclarationView, type GroupView } from './group-view.js'
import { liveGateways, liveStatuses } from './live-status.js'
import { overlapWarnings, type DefinitionWarning } from './overlap-warnings.js'
import { createServiceContext, viaRedis, type ConsumerServiceContext, type ConsumerServiceDeps } from './service-context.js'
import { stopConsumers, type DeleteResult, type StopFilter } from './stop-consumers.js'
import type { PutResult } from './store.js'

export type { ConsumerServiceDeps } from './service-context.js'
export type { DeclarationView, GroupView } from './group-view.js'
export type { DefinitionWarning } from './overlap-warnings.js'
export type { DeleteResult, StoppedConsumer } from './stop-consumers.js'

export interface DefineResult {
  created: boolean
  groups: Array<{ groupId: string, result: PutResult, version: number, declaration: DeclarationView }>
  warnings: DefinitionWarning[]
}

export interface ConsumerService {
  define (body: Record<string, GroupDefinitionInput>, opts: { replace: boolean }): Promise<DefineResult>
  list (): Promise<GroupView[]>
  get (groupId: string): Promise<GroupView>
  consumers (filter: RegistryFilter): Promise<Record<string, LiveEntry>>
  stop (filter: StopFilter): Promise<DeleteResult>
}

export function createConsumerService (deps: ConsumerServiceDeps): ConsumerService {
  const ctx = createServiceContext(deps)
  return {
    define: (body, opts) => define(ctx, body, opts),
    list: () => list(ctx),
    get: groupId => get(ctx, groupId),
    consumers: filter => viaRedis('read the registry', () => ctx.registry.live(filter)),
    stop: filter => stopConsumers(ctx, filter)
  }
}

async function define (ctx: ConsumerServiceContext, body: Record<string, GroupDefinitionInput>, { replace }: { replace: boolean }): Promise<DefineResult> {
  const { store, log } = ctx
  try {
    await checkDefinitions(body, { topics: ctx.topics, allowedHosts: ctx.allowedHosts, ...(ctx.blockedAddresses !== undefined ? { blockedAddresses: ctx.blockedAddresses } : {}) })
  } catch (err) {
    if (err instanceof AppError) throw err
    throw kafkaUnavailable('Kafka is unavailable: cannot check the topics of the definition', err)
  }
  const defs = Object.entries(body).map(([groupId, input]) => ({ groupId, definition: normalizeDefinition(input) }))
  const outcomes = await viaRedis('store the definitions', () => store.put(defs, { replace }))
  await viaRedis('resume stopped consumers', () => clearStopMarkers(ctx, defs.map(d => d.groupId)))
  let warnings: DefinitionWarning[] = []
  try {
    const [gateways, rows] = await Promise.all([liveGateways(ctx), ctx.registry.readAll()])
    for (const o of outcomes) warnings.push(...overlapWarnings(o.groupId, o.declaration, { record: o.record, gateways, rows }))
  } catch (err) {
    log.warn({ err }, 'could not compute overlap warnings')
    warnings = []
  }
  for (const o of outcomes) {
    if (o.result !== 'unchanged') log.info({ groupId: o.groupId, result: o.result, hash: o.declaration.hash, version: o.record.version }, 'consumer group defined')
  }
  // this instance starts (or restarts) it now; the others within a heartbeat
  await ctx.supervisor.reconcileNow()
  return {
    created: outcomes.some(o => o.result !== 'unchanged'),
    groups: outcomes.map(o => ({ groupId: o.groupId, result: o.result, version: o.record.version, declaration: declarationView(o.declaration) })),
    warnings
  }
}

/** A definition posted again resumes its group wherever it was stopped by instance. */
async function clearStopMarkers (ctx: ConsumerServiceContext, groupIds: string[]): Promise<void> {
  const gateways = await ctx.redis.smembers(ctx.keys.gateways)
  if (gateways.length === 0 || groupIds.length === 0) return
  const pipeline = ctx.redis.pipeline()
  for (const id of gateways) pipeline.hdel(ctx.keys.stopped(id), ...groupIds)
  await pipeline.exec()
}

async function list (ctx: ConsumerServiceContext): Promise<GroupView[]> {
  return await viaRedis('read the consumer groups', async () => {
    const [records, statuses] = await Promise.all([ctx.store.list(), liveStatuses(ctx)])
    return [...records.values()].map(r => groupView(r, statuses))
  })
}

async function get (ctx: ConsumerServiceContext, groupId: string): Promise<GroupView> {
  const [record, statuses] = await viaRedis('read the consumer group', () => Promise.all([ctx.store.get(groupId), liveStatuses(ctx)]))
  if (record === undefined) throw new AppError(404, 'GW_NOT_FOUND', `consumer group "${groupId}" is not defined`, { details: [{ field: 'params/groupId', rule: 'exists', message: `no definition for group "${groupId}"` }] })
  return groupView(record, statuses)
}
