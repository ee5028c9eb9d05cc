/**
 * `arrival` routing: which partitions a client's partition-assigned ("custom-assigner") consumer reads
 * on a topic, from the shared registry (keys.ts) — whether the client is a gateway instance or a
 * syrup-kafka process. Never falls back to the default partitioner: a client that is not registered,
 * not alive, or not partition-assigned on the topic is a 422 that says which.
 */
import type { Admin } from 'kafkajs'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { AppError, redisUnavailable } from '../errors.js'
import { CUSTOM_ASSIGNER_PROTOCOL } from '../kafka/partition-assigner.js'
import { mapKafkaError } from '../kafka/error-mapping.js'
import type { RegistryGroupEntry, RegistryKeys } from './keys.js'

/** The protocol name partition-assigned consumers use (seed 000: syrup-kafka's custom assigner). */

export type ArrivalRule = 'registered' | 'alive' | 'partitionAssigned'

export interface ArrivalRoute {
  clientId: string
  groupId: string
  memberId: string
  partitions: number[]
  /** `gateway`: liveness from its heartbeat key; `syrup`: from the consumer group's live members. */
  kind: 'gateway' | 'syrup'
}

export interface ArrivalResolver {
  /** The partitions to send to; throws 422 GW_ARRIVAL_UNROUTABLE (naming the rule), 503 when Redis or Kafka is down. */
  resolve (clientId: string, topic: string, field?: string): Promise<ArrivalRoute>
}

export interface ArrivalDeps {
  redis: Redis
  keys: RegistryKeys
  getAdmin: () => Promise<Admin>
  logger: Logger
  /** How long a consumer group's member list is trusted (default 2 s). */
  livenessCacheMs?: number
}

export function arrivalUnroutable (field: string, rule: ArrivalRule, message: string): AppError {
  return new AppError(422, 'GW_ARRIVAL_UNROUTABLE', `${field}: ${message}`, { details: [{ field, rule, message }] })
}

interface GroupLike { groupId: string, memberId: string, groupProtocol: string, partitions: number[] }

function asGroup (value: unknown): GroupLike | undefined {
  if (value === null || typeof value !== 'object') return undefined
  const v = value as Partial<Record<keyof RegistryGroupEntry, unknown>>
  if (typeof v.groupId !== 'string' || typeof v.memberId !== 'string') return undefined
  const partitions = Array.isArray(v.partitions) ? v.partitions.filter((p): p is number => Number.isInteger(p) && (p as number) >= 0) : []
  return { groupId: v.groupId, memberId: v.memberId, groupProtocol: typeof v.groupProtocol === 'string' ? v.groupProtocol : '', partitions }
}

/** The custom-assigner group of a topic entry: the top-level one (syrup-kafka's format) or one of `groups`. */
export function partitionAssignedGroup (topicEntry: unknown): GroupLike | undefined {
  if (topicEntry === null || typeof topicEntry !== 'object') return undefined
  const candidates = [asGroup(topicEntry)]
  const groups = (topicEntry as { groups?: unknown }).groups
  if (Array.isArray(groups)) candidates.push(...groups.map(asGroup))
  return candidates.find((g): g is GroupLike => g !== undefined && g.groupProtocol === CUSTOM_ASSIGNER_PROTOCOL && g.partitions.length > 0)
}

export function createArrivalResolver ({ redis, keys, getAdmin, logger, livenessCacheMs = 2000 }: ArrivalDeps): ArrivalResolver {
  const log = logger.child({ component: 'arrival' })
  const members = new Map<string, { at: number, members: Promise<Set<string>> }>()

  /** Live member ids of a consumer group, cached briefly; concurrent lookups share one describeGroups. */
  function liveMembers (groupId: string): Promise<Set<string>> {
    const hit = members.get(groupId)
    if (hit !== undefined && Date.now() - hit.at < livenessCacheMs) return hit.members
    const lookup = (async () => {
      const admin = await getAdmin()
      const { groups } = await admin.describeGroups([groupId])
      return new Set((groups.find(g => g.groupId === groupId)?.members ?? []).map(m => m.memberId))
    })()
    members.set(groupId, { at: Date.now(), members: lookup })
    lookup.catch(() => { if (members.get(groupId)?.members === lookup) members.delete(groupId) })
    if (members.size > 1000) {
      for (const [id, entry] of members) if (Date.now() - entry.at >= livenessCacheMs) members.delete(id)
    }
    return lookup
  }

  return {
    async resolve (clientId, topic, field = 'body/arrival') {
      let raw: string | null
      let isGateway: boolean
      let alive: boolean
      try {
        const [hget, sismember, exists] = await Promise.all([
          redis.hget(keys.registry, clientId),
          redis.sismember(keys.gateways, clientId),
          redis.exists(keys.alive(clientId))
        ])
        raw = hget
        isGateway = sismember === 1
        alive = exists === 1
      } catch (err) {
        throw redisUnavailable('Redis is unavailable: `arrival` cannot be routed now', err)
      }

      if (raw === null) throw arrivalUnroutable(field, 'registered', `client "${clientId}" is not registered (no entry in the consumer registry)`)
      if (isGateway && !alive) throw arrivalUnroutable(field, 'alive', `gateway "${clientId}" is not alive (its registry heartbeat expired)`)

      let entry: unknown
      try {
        entry = JSON.parse(raw)
      } catch {
        log.warn({ clientId }, 'unreadable registry entry')
        throw arrivalUnroutable(field, 'registered', `client "${clientId}" has an unreadable registry entry`)
      }
      const topicEntry = entry !== null && typeof entry === 'object' ? (entry as Record<string, unknown>)[topic] : undefined
      if (topicEntry === undefined) {
        throw arrivalUnroutable(field, 'partitionAssigned', `client "${clientId}" has no consumer on topic "${topic}"`)
      }
      const group = partitionAssignedGroup(topicEntry)
      if (group === undefined) {
        throw arrivalUnroutable(field, 'partitionAssigned',
          `client "${clientId}" has no partition-assigned ("${CUSTOM_ASSIGNER_PROTOCOL}") consumer with partitions on topic "${topic}"`)
      }

      if (!isGateway) {
        // a syrup-kafka process writes no heartbeat: it is alive while its member is in the group
        let live: Set<string>
        try {
          live = await liveMembers(group.groupId)
        } catch (err) {
          throw mapKafkaError(err)
        }
        if (!live.has(group.memberId)) {
          throw arrivalUnroutable(field, 'alive',
            `client "${clientId}" is not alive (member "${group.memberId}" is not in consumer group "${group.groupId}")`)
        }
      }
      return { clientId, groupId: group.groupId, memberId: group.memberId, partitions: [...new Set(group.partitions)].sort((a, b) => a - b), kind: isGateway ? 'gateway' : 'syrup' }
    }
  }
}
