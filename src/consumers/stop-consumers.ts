/**
 * DELETE /consumers: by group (or all), the definitions are deleted and every instance stops them; by
 * instance (optionally one group of it), stop markers are written, honoured by that instance within a heartbeat.
 */
import { AppError } from '../errors.js'
import type { RegistryRow } from '../registry/registry.js'
import { liveStatuses, type LiveStatuses } from './live-status.js'
import { viaRedis, type ConsumerServiceContext } from './service-context.js'

export interface StoppedConsumer {
  clientId: string
  groupId: string
  /** `stopped`: this instance stopped it before answering; `stopping`: its instance stops it within a heartbeat. */
  state: 'stopped' | 'stopping'
}

export interface DeleteResult {
  definitionsDeleted: string[]
  stopped: StoppedConsumer[]
}

export interface StopFilter {
  clientId?: string | undefined
  groupId?: string | undefined
  all?: boolean | undefined
}

/** Where the groups run: the live instances' statuses and the registry's rows. */
interface Running {
  rows: RegistryRow[]
  statuses: LiveStatuses
}

export async function stopConsumers (ctx: ConsumerServiceContext, { clientId: target, groupId, all }: StopFilter): Promise<DeleteResult> {
  if (target === undefined && groupId === undefined && all !== true) {
    throw new AppError(400, 'GW_VALIDATION', 'query: give clientId and/or groupId, or all=true to delete every consumer-group definition', {
      details: [{ field: 'query', rule: 'filter', message: 'clientId, groupId or all=true is required' }]
    })
  }
  return await viaRedis('stop consumers', async () => {
    const [rows, statuses] = await Promise.all([ctx.registry.readAll(), liveStatuses(ctx)])
    const running: Running = { rows, statuses }
    return target === undefined
      ? await stopGroups(ctx, running, groupId, all)
      : await stopOnInstance(ctx, running, target, groupId)
  })
}

/** Whether instance `id` runs group `g`: by its status, or by its registry entry. */
function runsGroup ({ rows, statuses }: Running, id: string, g: string): boolean {
  const s = statuses.get(id)?.[g]
  const inStatus = s !== undefined && s.state !== 'stopped'
  const entry = rows.find(r => r.clientId === id)?.entry
  const inRegistry = entry !== undefined && Object.values(entry).some(t => t.groupId === g || (Array.isArray(t.groups) && t.groups.some(x => x.groupId === g)))
  return inStatus || inRegistry
}

/** By group (or all): deletes the definitions; every instance stops them. */
async function stopGroups (ctx: ConsumerServiceContext, running: Running, groupId: string | undefined, all: boolean | undefined): Promise<DeleteResult> {
  const { store, registry, clientId } = ctx
  const stopped: StoppedConsumer[] = []
  const deleted = groupId !== undefined ? await store.delete([groupId]) : await store.deleteAll()
  const groups = groupId !== undefined ? [groupId] : deleted
  for (const [id] of running.statuses) {
    for (const g of groups) if (runsGroup(running, id, g)) stopped.push({ clientId: id, groupId: g, state: id === clientId ? 'stopped' : 'stopping' })
  }
  for (const row of running.rows) {
    if (row.gateway && groups.some(g => runsGroup(running, row.clientId, g))) await registry.removeGroups(row.clientId, groups)
  }
  if (groupId !== undefined && deleted.length === 0 && stopped.length === 0) {
    throw new AppError(404, 'GW_NOT_FOUND', `consumer group "${groupId}" is neither defined nor running on a gateway instance`, {
      details: [{ field: 'query/groupId', rule: 'exists', message: `no consumer group "${groupId}"` }]
    })
  }
  await ctx.supervisor.reconcileNow()
  ctx.log.info({ groupId, all, deleted, stopped }, 'consumer-group definitions deleted')
  return { definitionsDeleted: deleted, stopped }
}

/** By instance (optionally one group of it): stop markers, honoured by that instance within a heartbeat. */
async function stopOnInstance (ctx: ConsumerServiceContext, running: Running, target: string, groupId: string | undefined): Promise<DeleteResult> {
  const { clientId } = ctx
  const { rows, statuses } = running
  if (!statuses.has(target)) throw notLiveGateway(rows, target)
  const candidates = new Set(Object.keys(statuses.get(target) ?? {}))
  for (const t of Object.values(rows.find(r => r.clientId === target)?.entry ?? {})) {
    for (const g of Array.isArray(t.groups) ? t.groups : [t]) candidates.add(g.groupId)
  }
  const groups = [...candidates].filter(g => (groupId === undefined || g === groupId) && runsGroup(running, target, g)).sort()
  if (groupId !== undefined && groups.length === 0) {
    throw new AppError(404, 'GW_NOT_FOUND', `gateway instance "${target}" does not run consumer group "${groupId}"`, {
      details: [{ field: 'query', rule: 'exists', message: `"${target}" does not run "${groupId}"` }]
    })
  }
  if (groups.length > 0) {
    const marker = JSON.stringify({ at: new Date().toISOString(), by: clientId })
    await ctx.redis.hset(ctx.keys.stopped(target), Object.fromEntries(groups.map(g => [g, marker])))
    await ctx.registry.removeGroups(target, groups)
  }
  if (target === clientId) await ctx.supervisor.reconcileNow()
  const stopped: StoppedConsumer[] = groups.map(g => ({ clientId: target, groupId: g, state: target === clientId ? 'stopped' : 'stopping' }))
  ctx.log.info({ clientId: target, groups }, 'consumers stopped by request')
  return { definitionsDeleted: [], stopped }
}

/** 409 for a syrup-kafka process (the gateway cannot stop it), 404 for no such live instance. */
function notLiveGateway (rows: RegistryRow[], target: string): AppError {
  const row = rows.find(r => r.clientId === target)
  if (row !== undefined && !row.gateway) {
    return new AppError(409, 'GW_CONFLICT', `client "${target}" is not a gateway instance (a syrup-kafka process): the gateway cannot stop its consumers`, {
      details: [{ field: 'query/clientId', rule: 'gateway', message: `"${target}" is not a gateway instance` }]
    })
  }
  return new AppError(404, 'GW_NOT_FOUND', `no live gateway instance "${target}"`, { details: [{ field: 'query/clientId', rule: 'exists', message: `no live gateway instance "${target}"` }] })
}
