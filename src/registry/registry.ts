/**
 * The consumer registry (seed 000, "Redis Config"): Redis hash `<key>`, field = clientId, value = JSON
 * `{ "<topic>": { groupId, memberId, leaderId, isLeader, groupProtocol, partitions, groups } }` (keys.ts).
 *
 * Entries change only through one Lua script, so updates are atomic: several groups of one instance
 * joining at once never lose each other's parts (syrup-kafka read-merged-wrote and did). A gateway
 * entry is kept per group: every group's part on a topic is listed in `groups`; the top-level fields
 * are a copy of one of them — the first custom-assigner group (by group id) when there is one, so
 * syrup-kafka's `arrival` (`value[topic].groupProtocol === "custom-assigner"` → `value[topic].partitions`)
 * finds it, else the first group. A topic without any assigned partition is not in the entry.
 */
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { RegistryEntry, RegistryGroupEntry, RegistryKeys } from './keys.js'
import { isObject, parseEntry, WHOLE_FIELD, type Unreadable } from './entry-shape.js'
import { aliveAmong } from './liveness.js'
import { luaScript } from './scripts.js'

/** One group's assignment on one topic, as the entry stores it. */
export interface TopicPart extends RegistryGroupEntry {
  topic: string
}

/**
 * KEYS[1] registry hash. ARGV[1] clientId, ARGV[2] 'patch' | 'replace', ARGV[3] JSON array of group ids
 * to remove, ARGV[4] JSON array of TopicPart (a group listed here replaces all of its previous parts).
 * 'replace' drops every group not in ARGV[4]. Returns the number of topics left in the entry.
 * (Parts never carry empty arrays: cjson would write them back as `{}`.)
 */
const UPDATE_ENTRY = luaScript(`
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local entry = {}
if raw then
  local ok, decoded = pcall(cjson.decode, raw)
  if ok and type(decoded) == 'table' then entry = decoded end
end
local replace = ARGV[2] == 'replace'
local remove = {}
for _, g in ipairs(cjson.decode(ARGV[3])) do remove[g] = true end
local parts = cjson.decode(ARGV[4])
for _, p in ipairs(parts) do remove[p.groupId] = true end
local byTopic = {}
if not replace then
  for topic, v in pairs(entry) do
    local list = {}
    if type(v) == 'table' and type(v.groups) == 'table' then
      for _, g in ipairs(v.groups) do
        if type(g) == 'table' and g.groupId and not remove[g.groupId] then table.insert(list, g) end
      end
    elseif type(v) == 'table' and v.groupId and not remove[v.groupId] then
      table.insert(list, { groupId = v.groupId, memberId = v.memberId, leaderId = v.leaderId,
        isLeader = v.isLeader, groupProtocol = v.groupProtocol, partitions = v.partitions })
    end
    byTopic[topic] = list
  end
end
for _, p in ipairs(parts) do
  local topic = p.topic
  p.topic = nil
  if byTopic[topic] == nil then byTopic[topic] = {} end
  table.insert(byTopic[topic], p)
end
local out = {}
local count = 0
for topic, list in pairs(byTopic) do
  if #list > 0 then
    table.sort(list, function (a, b) return a.groupId < b.groupId end)
    local top = list[1]
    for _, g in ipairs(list) do
      if g.groupProtocol == 'custom-assigner' then top = g break end
    end
    out[topic] = { groupId = top.groupId, memberId = top.memberId, leaderId = top.leaderId,
      isLeader = top.isLeader, groupProtocol = top.groupProtocol, partitions = top.partitions, groups = list }
    count = count + 1
  end
end
if count == 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(out))
end
return count
`)

export interface RegistryFilter {
  clientId?: string | undefined
  groupId?: string | undefined
  topic?: string | undefined
}

export interface Registry {
  /** Sets `groupId`'s parts in `clientId`'s entry (an empty list removes the group). */
  setGroup (clientId: string, groupId: string, parts: TopicPart[]): Promise<void>
  /** Removes groups from `clientId`'s entry. */
  removeGroups (clientId: string, groupIds: string[]): Promise<void>
  /** Rewrites `clientId`'s entry from scratch with exactly these parts (recovery, periodic self-heal). */
  replaceAll (clientId: string, parts: TopicPart[]): Promise<void>
  /** Every entry (its readable topics, and what is not in the format apart), with whether the client is a gateway and live. */
  readAll (): Promise<RegistryRow[]>
  /** Live entries only (gateways with a heartbeat, plus syrup-kafka entries), filtered; unreadable parts shown as found. */
  live (filter?: RegistryFilter): Promise<Record<string, LiveEntry>>
}

/** A client's entry as GET /consumers shows it: readable topics, and unreadable ones flagged with their raw value. */
export type LiveEntry = Record<string, RegistryEntry[string] | { unreadable: string, raw: unknown }>

export interface RegistryRow {
  clientId: string
  /** The topics in the registry format (src/registry/entry-shape.ts). */
  entry: RegistryEntry
  /** Topic (or WHOLE_FIELD) → why it is not in the format, and the value as found. */
  unreadable: Record<string, Unreadable>
  /** Listed in `<key>:gateways` (a gateway instance) rather than a syrup-kafka process. */
  gateway: boolean
  /** Gateways: its heartbeat key exists. syrup-kafka entries write none and count as live. */
  alive: boolean
}

function sortedParts (parts: TopicPart[]): TopicPart[] {
  return parts
    .filter(p => p.partitions.length > 0)
    .map(p => ({ ...p, partitions: [...new Set(p.partitions)].sort((a, b) => a - b) }))
}

/** Keeps what matches `groupId` and `topic`; the top-level fields then describe the matching group. */
export function filterEntry (entry: RegistryEntry, filter: RegistryFilter): RegistryEntry | undefined {
  const out: RegistryEntry = {}
  for (const [topic, value] of Object.entries(entry)) {
    if (filter.topic !== undefined && topic !== filter.topic) continue
    if (!isObject(value)) continue
    if (filter.groupId === undefined) {
      out[topic] = value
      continue
    }
    const groups = Array.isArray(value.groups) ? value.groups : undefined
    if (groups === undefined) {
      if (value.groupId === filter.groupId) out[topic] = value
      continue
    }
    const match = groups.filter(g => isObject(g) && g.groupId === filter.groupId)
    const first = match[0]
    if (first !== undefined) out[topic] = { ...first, groups: match }
  }
  return Object.keys(out).length === 0 ? undefined : out
}

/** The unreadable parts `filter` keeps: by topic, and by group when the raw value names one; the whole field only unfiltered. */
function filterUnreadable (unreadable: Record<string, Unreadable>, filter: RegistryFilter): Record<string, { unreadable: string, raw: unknown }> {
  const out: Record<string, { unreadable: string, raw: unknown }> = {}
  for (const [topic, { reason, raw }] of Object.entries(unreadable)) {
    if (topic === WHOLE_FIELD && (filter.topic !== undefined || filter.groupId !== undefined)) continue
    if (filter.topic !== undefined && topic !== filter.topic) continue
    if (filter.groupId !== undefined && !(isObject(raw) && raw.groupId === filter.groupId)) continue
    out[topic] = { unreadable: reason, raw }
  }
  return out
}

/** Warns once per client and stored value, not on every read of the same unreadable field. */
function unreadableWarner (log: Logger): (clientId: string, text: string, unreadable: Record<string, Unreadable>) => void {
  const warned = new Map<string, string>()
  return (clientId, text, unreadable) => {
    if (warned.get(clientId) === text) return
    if (warned.size >= 1000) warned.clear()
    warned.set(clientId, text)
    log.warn({ clientId, unreadable: Object.fromEntries(Object.entries(unreadable).map(([t, u]) => [t, u.reason])) }, 'registry entry not in the registry format: shown as found, flagged unreadable')
  }
}

export function createRegistry ({ redis, keys, logger }: { redis: Redis, keys: RegistryKeys, logger: Logger }): Registry {
  const log = logger.child({ component: 'registry' })
  const warnUnreadable = unreadableWarner(log)

  async function update (clientId: string, mode: 'patch' | 'replace', remove: string[], parts: TopicPart[]): Promise<void> {
    await UPDATE_ENTRY.run(redis, [keys.registry], [clientId, mode, JSON.stringify(remove), JSON.stringify(sortedParts(parts))])
  }

  async function readAll (): Promise<RegistryRow[]> {
    const [all, gateways] = await Promise.all([redis.hgetall(keys.registry), redis.smembers(keys.gateways)])
    const gatewaySet = new Set(gateways)
    const ids = Object.keys(all).sort()
    const gatewayIds = ids.filter(id => gatewaySet.has(id))
    const alive = await aliveAmong(redis, keys, gatewayIds)
    const rows: RegistryRow[] = []
    for (const clientId of ids) {
      const text = all[clientId] ?? ''
      const { entry, unreadable } = parseEntry(text)
      if (Object.keys(unreadable).length > 0) warnUnreadable(clientId, text, unreadable)
      const gateway = gatewaySet.has(clientId)
      rows.push({ clientId, entry, unreadable, gateway, alive: gateway ? alive.has(clientId) : true })
    }
    return rows
  }

  return {
    setGroup: (clientId, groupId, parts) => update(clientId, 'patch', [groupId], parts),
    removeGroups: (clientId, groupIds) => update(clientId, 'patch', groupIds, []),
    replaceAll: (clientId, parts) => update(clientId, 'replace', [], parts),
    readAll,
    async live (filter = {}) {
      const out: Record<string, LiveEntry> = {}
      for (const row of await readAll()) {
        if (!row.alive) continue
        if (filter.clientId !== undefined && row.clientId !== filter.clientId) continue
        const entry: LiveEntry = { ...filterEntry(row.entry, filter), ...filterUnreadable(row.unreadable, filter) }
        if (Object.keys(entry).length > 0) out[row.clientId] = entry
      }
      return out
    }
  }
}
