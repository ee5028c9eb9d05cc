/** Which gateway instances are live, and the status of every group they run, read from their status hashes. */
import { aliveAmong } from '../registry/liveness.js'
import { emptyStatus } from './runner/status.js'
import type { ConsumerServiceContext } from './service-context.js'
import type { GroupStatus } from './supervisor/supervisor.js'

/** clientId → groupId → status. */
export type LiveStatuses = Map<string, Record<string, GroupStatus>>

/** Live gateway instances (heartbeat present). */
export async function liveGateways (ctx: ConsumerServiceContext): Promise<string[]> {
  const members = (await ctx.redis.smembers(ctx.keys.gateways)).sort()
  const alive = await aliveAmong(ctx.redis, ctx.keys, members)
  return members.filter(id => alive.has(id))
}

/** Status hashes of the live instances. */
export async function liveStatuses (ctx: ConsumerServiceContext): Promise<LiveStatuses> {
  const gateways = await liveGateways(ctx)
  const out: LiveStatuses = new Map()
  if (gateways.length === 0) return out
  const pipeline = ctx.redis.pipeline()
  for (const id of gateways) pipeline.hgetall(ctx.keys.status(id))
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
  if (out.has(ctx.clientId)) out.set(ctx.clientId, ctx.supervisor.statuses())
  return out
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
