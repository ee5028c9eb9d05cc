/**
 * What the consumer-group and registry routes do: define groups, list them with their live status per
 * instance, read the registry, and stop consumers. Redis failures become 503 GW_REDIS_UNAVAILABLE.
 */
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { AppError, kafkaUnavailable, redisUnavailable } from '../errors.js'
import type { TopicMetadataCache } from '../kafka/topics.js'
import type { RegistryEntry, RegistryKeys } from '../registry/keys.js'
import { aliveAmong } from '../registry/liveness.js'
import type { Registry, RegistryFilter } from '../registry/registry.js'
import { normalizeDefinition, type GroupDefinition, type GroupDefinitionInput } from './definition.js'
import { checkDefinitions } from './definition-checks.js'
import { definitionView, type DefinitionView } from './definition-view.js'
import type { Declaration, DefinitionStore, GroupRecord, PutResult } from './store.js'
import { emptyStatus } from './runner.js'
import type { GroupStatus, Supervisor } from './supervisor.js'

export interface DefinitionWarning {
  groupId: string
  message: string
  topic?: string
  partitions?: number[]
  clientIds?: string[]
}

export type DeclarationView = DefinitionView & { hash: string, version: number, createdAt: string, updatedAt: string }

export interface GroupView {
  groupId: string
  version: number
  updatedAt: string
  declarations: DeclarationView[]
  /** Live status per gateway instance (clientId) that runs, or was asked to stop, the group. */
  instances: Record<string, GroupStatus>
}

export interface DefineResult {
  created: boolean
  groups: Array<{ groupId: string, result: PutResult, version: number, declaration: DeclarationView }>
  warnings: DefinitionWarning[]
}

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

export interface ConsumerService {
  define (body: Record<string, GroupDefinitionInput>, opts: { replace: boolean }): Promise<DefineResult>
  list (): Promise<GroupView[]>
  get (groupId: string): Promise<GroupView>
  consumers (filter: RegistryFilter): Promise<Record<string, RegistryEntry>>
  stop (filter: { clientId?: string | undefined, groupId?: string | undefined, all?: boolean | undefined }): Promise<DeleteResult>
}

export interface ConsumerServiceDeps {
  clientId: string
  redis: Redis
  keys: RegistryKeys
  store: DefinitionStore
  registry: Registry
  supervisor: Supervisor
  topics: TopicMetadataCache
  allowedHosts: readonly string[]
  blockedAddresses?: readonly string[]
  logger: Logger
}

function declarationView (d: Declaration): DeclarationView {
  return { ...definitionView(d.definition), hash: d.hash, version: d.version, createdAt: d.createdAt, updatedAt: d.updatedAt }
}

function parseStatus (raw: string | undefined): GroupStatus | undefined {
  if (raw === undefined) return undefined
  try {
    const v: unknown = JSON.parse(raw)
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined
    // an instance of an older version writes fewer fields: the missing ones read as nothing counted yet
    const base = emptyStatus()
    return { ...base, ...(v as Partial<GroupStatus>), byPartition: Array.isArray((v as Partial<GroupStatus>).byPartition) ? (v as GroupStatus).byPartition : [] }
  } catch {
    return undefined
  }
}

function intersect (a: readonly number[], b: readonly number[]): number[] {
  const set = new Set(b)
  return a.filter(p => set.has(p))
}

export function createConsumerService (deps: ConsumerServiceDeps): ConsumerService {
  const { clientId, redis, keys, store, registry, supervisor } = deps
  const log = deps.logger.child({ component: 'consumer-groups' })

  async function viaRedis<T> (what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      if (err instanceof AppError) throw err
      throw redisUnavailable(`Redis is unavailable: cannot ${what}`, err)
    }
  }

  /** Live gateway instances (heartbeat present). */
  async function liveGateways (): Promise<string[]> {
    const members = (await redis.smembers(keys.gateways)).sort()
    const alive = await aliveAmong(redis, keys, members)
    return members.filter(id => alive.has(id))
  }

  /** Status hashes of the live instances: clientId → groupId → status. */
  async function liveStatuses (): Promise<Map<string, Record<string, GroupStatus>>> {
    const gateways = await liveGateways()
    const out = new Map<string, Record<string, GroupStatus>>()
    if (gateways.length === 0) return out
    const pipeline = redis.pipeline()
    for (const id of gateways) pipeline.hgetall(keys.status(id))
    const results = await pipeline.exec() ?? []
    gateways.forEach((id, i) => {
      const raw = (results[i]?.[1] ?? {}) as Record<string, string>
      const statuses: Record<string, GroupStatus> = {}
      for (const [groupId, value] of Object.entries(raw)) {
        const status = parseStatus(value)
        if (status !== undefined) statuses[groupId] = status
      }
      out.set(id, statuses)
    })
    // this instance answers from memory: fresher than its last status write
    if (out.has(clientId)) out.set(clientId, supervisor.statuses())
    return out
  }

  function view (record: GroupRecord, statuses: Map<string, Record<string, GroupStatus>>): GroupView {
    const instances: Record<string, GroupStatus> = {}
    for (const [id, byGroup] of statuses) {
      const status = byGroup[record.groupId]
      if (status !== undefined) instances[id] = status
    }
    return { groupId: record.groupId, version: record.version, updatedAt: record.updatedAt, declarations: record.declarations.map(declarationView), instances }
  }

  async function warningsFor (groupId: string, def: GroupDefinition, record: GroupRecord, self: Declaration, gateways: string[], rows: Awaited<ReturnType<Registry['readAll']>>): Promise<DefinitionWarning[]> {
    if (!def.isPartitionAssign) return []
    const warnings: DefinitionWarning[] = []
    const scope = def.clientIds
    if (scope !== undefined && scope.length > 1) {
      warnings.push({ groupId, clientIds: scope, message: `group "${groupId}" declares the same partitions on ${scope.length} instances (${scope.join(', ')}): each of them consumes, and delivers, every record of those partitions` })
    } else if (scope === undefined && gateways.length > 1) {
      warnings.push({ groupId, clientIds: gateways, message: `group "${groupId}" has no clientIds, so each of the ${gateways.length} live instances declares the same partitions and delivers every record of them; give each instance its own declaration with clientIds to split them` })
    }
    for (const other of record.declarations) {
      if (other.hash === self.hash) continue
      for (const topic of def.topics) {
        const theirs = other.definition.topics.find(t => t.name === topic.name)?.partitions ?? []
        const both = intersect(topic.partitions ?? [], theirs)
        if (both.length > 0) {
          warnings.push({ groupId, topic: topic.name, partitions: both, clientIds: other.definition.clientIds ?? [], message: `partitions ${both.join(', ')} of topic "${topic.name}" are also declared in group "${groupId}" for ${other.definition.clientIds?.join(', ') ?? 'every instance'}: each consumes them` })
        }
      }
    }
    // other processes (syrup-kafka, or gateways outside this declaration) consuming the same partitions in this group
    for (const row of rows) {
      if (!row.alive || (row.gateway && (scope === undefined || scope.includes(row.clientId)))) continue
      if (row.gateway && record.declarations.some(d => d.definition.clientIds?.includes(row.clientId))) continue
      for (const topic of def.topics) {
        const entry = row.entry[topic.name]
        if (entry === undefined) continue
        const candidates = [entry, ...(Array.isArray(entry.groups) ? entry.groups : [])]
        const match = candidates.find(g => g.groupId === groupId && Array.isArray(g.partitions))
        if (match === undefined) continue
        const both = intersect(topic.partitions ?? [], match.partitions)
        if (both.length > 0) {
          warnings.push({ groupId, topic: topic.name, partitions: both, clientIds: [row.clientId], message: `client "${row.clientId}" already consumes partitions ${both.join(', ')} of topic "${topic.name}" in group "${groupId}": both receive their records` })
          break
        }
      }
    }
    return warnings
  }

  async function clearStopMarkers (groupIds: string[]): Promise<void> {
    const gateways = await redis.smembers(keys.gateways)
    if (gateways.length === 0 || groupIds.length === 0) return
    const pipeline = redis.pipeline()
    for (const id of gateways) pipeline.hdel(keys.stopped(id), ...groupIds)
    await pipeline.exec()
  }

  const service: ConsumerService = {
    async define (body, { replace }) {
      try {
        await checkDefinitions(body, { topics: deps.topics, allowedHosts: deps.allowedHosts, ...(deps.blockedAddresses !== undefined ? { blockedAddresses: deps.blockedAddresses } : {}) })
      } catch (err) {
        if (err instanceof AppError) throw err
        throw kafkaUnavailable('Kafka is unavailable: cannot check the topics of the definition', err)
      }
      const defs = Object.entries(body).map(([groupId, input]) => ({ groupId, definition: normalizeDefinition(input) }))
      const outcomes = await viaRedis('store the definitions', () => store.put(defs, { replace }))
      await viaRedis('resume stopped consumers', () => clearStopMarkers(defs.map(d => d.groupId)))
      let warnings: DefinitionWarning[] = []
      try {
        const [gateways, rows] = await Promise.all([liveGateways(), registry.readAll()])
        for (const o of outcomes) {
          warnings.push(...await warningsFor(o.groupId, o.declaration.definition, o.record, o.declaration, gateways, rows))
        }
      } catch (err) {
        log.warn({ err }, 'could not compute overlap warnings')
        warnings = []
      }
      for (const o of outcomes) {
        if (o.result !== 'unchanged') log.info({ groupId: o.groupId, result: o.result, hash: o.declaration.hash, version: o.record.version }, 'consumer group defined')
      }
      // this instance starts (or restarts) it now; the others within a heartbeat
      await supervisor.reconcileNow()
      return {
        created: outcomes.some(o => o.result !== 'unchanged'),
        groups: outcomes.map(o => ({ groupId: o.groupId, result: o.result, version: o.record.version, declaration: declarationView(o.declaration) })),
        warnings
      }
    },

    async list () {
      return await viaRedis('read the consumer groups', async () => {
        const [records, statuses] = await Promise.all([store.list(), liveStatuses()])
        return [...records.values()].map(r => view(r, statuses))
      })
    },

    async get (groupId) {
      const [record, statuses] = await viaRedis('read the consumer group', () => Promise.all([store.get(groupId), liveStatuses()]))
      if (record === undefined) throw new AppError(404, 'GW_NOT_FOUND', `consumer group "${groupId}" is not defined`, { details: [{ field: 'params/groupId', rule: 'exists', message: `no definition for group "${groupId}"` }] })
      return view(record, statuses)
    },

    async consumers (filter) {
      return await viaRedis('read the registry', () => registry.live(filter))
    },

    async stop ({ clientId: target, groupId, all }) {
      if (target === undefined && groupId === undefined && all !== true) {
        throw new AppError(400, 'GW_VALIDATION', 'query: give clientId and/or groupId, or all=true to delete every consumer-group definition', {
          details: [{ field: 'query', rule: 'filter', message: 'clientId, groupId or all=true is required' }]
        })
      }
      return await viaRedis('stop consumers', async () => {
        const [rows, statuses] = await Promise.all([registry.readAll(), liveStatuses()])
        const stopped: StoppedConsumer[] = []
        const runsGroup = (id: string, g: string): boolean => {
          const s = statuses.get(id)?.[g]
          const inStatus = s !== undefined && s.state !== 'stopped'
          const entry = rows.find(r => r.clientId === id)?.entry
          const inRegistry = entry !== undefined && Object.values(entry).some(t => t.groupId === g || (Array.isArray(t.groups) && t.groups.some(x => x.groupId === g)))
          return inStatus || inRegistry
        }

        if (target === undefined) {
          // by group (or all): delete the definitions; every instance stops them
          const deleted = groupId !== undefined ? await store.delete([groupId]) : await store.deleteAll()
          const groups = groupId !== undefined ? [groupId] : deleted
          for (const [id] of statuses) {
            for (const g of groups) if (runsGroup(id, g)) stopped.push({ clientId: id, groupId: g, state: id === clientId ? 'stopped' : 'stopping' })
          }
          for (const row of rows) {
            if (row.gateway && groups.some(g => runsGroup(row.clientId, g))) await registry.removeGroups(row.clientId, groups)
          }
          if (groupId !== undefined && deleted.length === 0 && stopped.length === 0) {
            throw new AppError(404, 'GW_NOT_FOUND', `consumer group "${groupId}" is neither defined nor running on a gateway instance`, {
              details: [{ field: 'query/groupId', rule: 'exists', message: `no consumer group "${groupId}"` }]
            })
          }
          await supervisor.reconcileNow()
          log.info({ groupId, all, deleted, stopped }, 'consumer-group definitions deleted')
          return { definitionsDeleted: deleted, stopped }
        }

        // by instance (optionally one group of it): stop markers, honoured by that instance within a heartbeat
        const isLive = statuses.has(target)
        if (!isLive) {
          const row = rows.find(r => r.clientId === target)
          if (row !== undefined && !row.gateway) {
            throw new AppError(409, 'GW_CONFLICT', `client "${target}" is not a gateway instance (a syrup-kafka process): the gateway cannot stop its consumers`, {
              details: [{ field: 'query/clientId', rule: 'gateway', message: `"${target}" is not a gateway instance` }]
            })
          }
          throw new AppError(404, 'GW_NOT_FOUND', `no live gateway instance "${target}"`, { details: [{ field: 'query/clientId', rule: 'exists', message: `no live gateway instance "${target}"` }] })
        }
        const candidates = new Set(Object.keys(statuses.get(target) ?? {}))
        for (const t of Object.values(rows.find(r => r.clientId === target)?.entry ?? {})) {
          for (const g of Array.isArray(t.groups) ? t.groups : [t]) candidates.add(g.groupId)
        }
        const groups = [...candidates].filter(g => (groupId === undefined || g === groupId) && runsGroup(target, g)).sort()
        if (groupId !== undefined && groups.length === 0) {
          throw new AppError(404, 'GW_NOT_FOUND', `gateway instance "${target}" does not run consumer group "${groupId}"`, {
            details: [{ field: 'query', rule: 'exists', message: `"${target}" does not run "${groupId}"` }]
          })
        }
        if (groups.length > 0) {
          const marker = JSON.stringify({ at: new Date().toISOString(), by: clientId })
          await redis.hset(keys.stopped(target), Object.fromEntries(groups.map(g => [g, marker])))
          await registry.removeGroups(target, groups)
        }
        if (target === clientId) await supervisor.reconcileNow()
        for (const g of groups) stopped.push({ clientId: target, groupId: g, state: target === clientId ? 'stopped' : 'stopping' })
        log.info({ clientId: target, groups }, 'consumers stopped by request')
        return { definitionsDeleted: [], stopped }
      })
    }
  }
  return service
}
