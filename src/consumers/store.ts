/**
 * Consumer-group definitions in Redis hash `<key>:groups` (keys.ts): field = groupId, value = a GroupRecord.
 *
 * A group holds one declaration per set of instances it runs on (`clientIds`, absent = all). Declarations
 * of one group never overlap in instances; only partition-assigned groups may have several (each instance
 * then declares its own partitions, as syrup-kafka processes do). Writes are compare-and-set on the
 * record's `hash` (one Lua script for all groups of a request), so two POSTs racing never half-apply.
 *
 * POST semantics (per group of the body):
 * - an identical declaration exists → `unchanged` (idempotent, 200);
 * - no record → `created`;
 * - a declaration for overlapping instances exists → 409 GW_CONFLICT, unless `replace`: the overlapping
 *   declarations (and any that cannot coexist with the new one) are replaced → `replaced`;
 * - only declarations for other instances exist → added (`created`) when all are partition-assigned;
 *   otherwise 409 (a round-robin group has one definition), unless `replace` (which then replaces all).
 */
import type { Redis } from 'ioredis'
import { createHash, randomBytes } from 'node:crypto'
import { AppError } from '../errors.js'
import type { RegistryKeys } from '../registry/keys.js'
import { luaScript } from '../registry/scripts.js'
import { appliesTo, definitionHash, scopesOverlap, type GroupDefinition } from './definition.js'

export interface Declaration {
  hash: string
  /** Random per declaration (hex), mixed into `hash`; never shown. Absent in records written before it existed. */
  salt?: string
  version: number
  createdAt: string
  updatedAt: string
  definition: GroupDefinition
}

export interface GroupRecord {
  groupId: string
  /** Hash of the declarations: the compare-and-set token. */
  hash: string
  /** Bumped on every change of the group. */
  version: number
  updatedAt: string
  declarations: Declaration[]
}

export type PutResult = 'created' | 'replaced' | 'unchanged'

export interface PutOutcome {
  groupId: string
  result: PutResult
  record: GroupRecord
  declaration: Declaration
  /** Declarations removed by `replace`. */
  replaced: Declaration[]
}

/**
 * KEYS[1] groups hash; ARGV[1] n, then per group: groupId, expected hash ('' = absent), new JSON ('' = delete).
 * Returns '' when applied, else the first group id whose record changed meanwhile.
 */
const CAS = luaScript(`
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local id = ARGV[2 + i * 3]
  local expected = ARGV[3 + i * 3]
  local cur = redis.call('HGET', KEYS[1], id)
  local curHash = ''
  if cur then
    local ok, d = pcall(cjson.decode, cur)
    if ok and type(d) == 'table' and type(d.hash) == 'string' then curHash = d.hash else curHash = '?' end
  end
  if curHash ~= expected then return id end
end
for i = 0, n - 1 do
  local id = ARGV[2 + i * 3]
  local value = ARGV[4 + i * 3]
  if value == '' then redis.call('HDEL', KEYS[1], id) else redis.call('HSET', KEYS[1], id, value) end
end
return ''
`)

const MAX_CAS_ATTEMPTS = 5

function recordHash (declarations: Declaration[]): string {
  return createHash('sha256').update(declarations.map(d => d.hash).sort().join(',')).digest('hex').slice(0, 16)
}

function isRecord (v: unknown): v is GroupRecord {
  if (v === null || typeof v !== 'object') return false
  const r = v as Partial<GroupRecord>
  return typeof r.groupId === 'string' && typeof r.hash === 'string' && Array.isArray(r.declarations)
}

export function parseRecord (raw: string | null | undefined): GroupRecord | undefined {
  if (raw === null || raw === undefined) return undefined
  try {
    const v: unknown = JSON.parse(raw)
    return isRecord(v) ? v : undefined
  } catch {
    return undefined
  }
}

/** The declaration of `record` that runs on `clientId`, if any. */
export function declarationFor (record: GroupRecord, clientId: string): Declaration | undefined {
  return record.declarations.find(d => appliesTo(d.definition, clientId))
}

function describeScope (def: GroupDefinition): string {
  return def.clientIds === undefined ? 'every instance' : `instances ${def.clientIds.join(', ')}`
}

export interface DefinitionStore {
  list (): Promise<Map<string, GroupRecord>>
  get (groupId: string): Promise<GroupRecord | undefined>
  put (defs: Array<{ groupId: string, definition: GroupDefinition }>, opts: { replace: boolean }): Promise<PutOutcome[]>
  /** Deletes the groups; returns those that existed. */
  delete (groupIds: string[]): Promise<string[]>
  /** Deletes every group; returns their ids. */
  deleteAll (): Promise<string[]>
  /** Writes back records that are missing (after Redis lost its data); existing ones are left alone. */
  restore (records: Iterable<GroupRecord>): Promise<number>
}

export function createDefinitionStore ({ redis, keys, now = () => new Date() }: { redis: Redis, keys: RegistryKeys, now?: () => Date }): DefinitionStore {
  function plan (current: GroupRecord | undefined, groupId: string, definition: GroupDefinition, replace: boolean): { outcome: PutOutcome, write: boolean } {
    const at = now().toISOString()
    const fresh = (version: number, createdAt = at): Declaration => {
      const salt = randomBytes(16).toString('hex')
      return { hash: definitionHash(definition, salt), salt, version, createdAt, updatedAt: at, definition }
    }
    if (current === undefined) {
      const declaration = fresh(1)
      const record: GroupRecord = { groupId, hash: recordHash([declaration]), version: 1, updatedAt: at, declarations: [declaration] }
      return { outcome: { groupId, result: 'created', record, declaration, replaced: [] }, write: true }
    }
    const same = current.declarations.find(d => definitionHash(definition, d.salt) === d.hash)
    if (same !== undefined) return { outcome: { groupId, result: 'unchanged', record: current, declaration: same, replaced: [] }, write: false }

    const overlapping = current.declarations.filter(d => scopesOverlap(d.definition, definition))
    const compatible = (d: Declaration): boolean => d.definition.isPartitionAssign && definition.isPartitionAssign
    const incompatible = current.declarations.filter(d => !overlapping.includes(d) && !compatible(d))
    if (!replace && overlapping.length > 0) {
      const first = overlapping[0] as Declaration
      throw new AppError(409, 'GW_CONFLICT',
        `consumer group "${groupId}" is already defined differently for ${describeScope(first.definition)}: POST with ?replace=true to replace it, or DELETE /consumers?groupId=${groupId} first`,
        { details: overlapping.map(d => ({ field: `body/${groupId}`, rule: 'unique', message: `existing declaration ${d.hash} (version ${d.version}) runs on ${describeScope(d.definition)}`, hash: d.hash, version: d.version })) })
    }
    if (!replace && incompatible.length > 0) {
      throw new AppError(409, 'GW_CONFLICT',
        `consumer group "${groupId}" is already defined for other instances; only partition-assigned groups may be declared per instance, so a round-robin group has one definition: POST with ?replace=true to replace it`,
        { details: incompatible.map(d => ({ field: `body/${groupId}`, rule: 'unique', message: `existing declaration ${d.hash} runs on ${describeScope(d.definition)}`, hash: d.hash, version: d.version })) })
    }
    const removed = [...overlapping, ...incompatible]
    const version = removed.length === 0 ? 1 : Math.max(...removed.map(d => d.version)) + 1
    const declaration = fresh(version)
    const declarations = [...current.declarations.filter(d => !removed.includes(d)), declaration]
    const record: GroupRecord = { groupId, hash: recordHash(declarations), version: current.version + 1, updatedAt: at, declarations }
    return { outcome: { groupId, result: removed.length > 0 ? 'replaced' : 'created', record, declaration, replaced: removed }, write: true }
  }

  async function cas (writes: Array<{ groupId: string, expected: string, value: string }>): Promise<string> {
    if (writes.length === 0) return ''
    const args: string[] = [String(writes.length)]
    for (const w of writes) args.push(w.groupId, w.expected, w.value)
    return String(await CAS.run(redis, [keys.groups], args))
  }

  const store: DefinitionStore = {
    async list () {
      const all = await redis.hgetall(keys.groups)
      const out = new Map<string, GroupRecord>()
      for (const id of Object.keys(all).sort()) {
        const record = parseRecord(all[id])
        if (record !== undefined) out.set(id, record)
      }
      return out
    },
    async get (groupId) {
      return parseRecord(await redis.hget(keys.groups, groupId))
    },
    async put (defs, { replace }) {
      for (let attempt = 1; ; attempt++) {
        const ids = defs.map(d => d.groupId)
        const raws = ids.length === 0 ? [] : await redis.hmget(keys.groups, ...ids)
        const outcomes: PutOutcome[] = []
        const writes: Array<{ groupId: string, expected: string, value: string }> = []
        defs.forEach(({ groupId, definition }, i) => {
          const current = parseRecord(raws[i])
          const { outcome, write } = plan(current, groupId, definition, replace)
          outcomes.push(outcome)
          if (write) writes.push({ groupId, expected: current?.hash ?? (raws[i] === null || raws[i] === undefined ? '' : '?'), value: JSON.stringify(outcome.record) })
        })
        const conflict = await cas(writes)
        if (conflict === '') return outcomes
        if (attempt >= MAX_CAS_ATTEMPTS) {
          throw new AppError(409, 'GW_CONFLICT', `consumer group "${conflict}" is being changed concurrently; retry`, { retriable: true })
        }
      }
    },
    async delete (groupIds) {
      if (groupIds.length === 0) return []
      const pipeline = redis.pipeline()
      for (const id of groupIds) pipeline.hdel(keys.groups, id)
      const results = await pipeline.exec() ?? []
      return groupIds.filter((_id, i) => results[i]?.[1] === 1)
    },
    async deleteAll () {
      const ids = await redis.hkeys(keys.groups)
      return await store.delete(ids)
    },
    async restore (records) {
      let restored = 0
      for (const record of records) {
        restored += await redis.hsetnx(keys.groups, record.groupId, JSON.stringify(record))
      }
      return restored
    }
  }
  return store
}
