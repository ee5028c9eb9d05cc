/**
 * Pull instances in Redis, shared by every gateway instance on one REGISTRY_KEY:
 * - `<key>:pull` (hash): field `<groupId>/<instanceId>` → PullInstanceRecord JSON (types.ts);
 * - `<key>:pull:expiry` (sorted set): the same field, scored by the wall-clock ms at which it expires
 *   (last request + instanceTimeoutMs). Every request pushes it back; any instance's sweep removes what expired.
 * Ownership changes through one script that re-checks the old owner's heartbeat, so two instances that
 * both find the owner dead cannot both take the instance.
 */
import type { Redis } from 'ioredis'
import type { RegistryKeys } from '../registry/keys.js'
import { luaScript } from '../registry/scripts.js'
import type { PullInstanceRecord, PullSource } from './types.js'

export interface PullKeys { records: string, expiry: string }

export const pullKeys = (keys: RegistryKeys): PullKeys => ({ records: `${keys.registry}:pull`, expiry: `${keys.registry}:pull:expiry` })
export const pullField = (groupId: string, instanceId: string): string => `${groupId}/${instanceId}`

/** KEYS records, expiry, alive(expected owner); ARGV field, expected owner, new owner, new url, expiry → 1 taken, 0 gone, 2 owner changed, 3 owner alive. */
const CLAIM = luaScript(`
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local rec = cjson.decode(raw)
if rec.owner ~= ARGV[2] then return 2 end
if ARGV[2] ~= ARGV[3] and redis.call('EXISTS', KEYS[3]) == 1 then return 3 end
rec.owner = ARGV[3]
rec.ownerUrl = ARGV[4]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(rec))
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
return 1
`)

/** KEYS records, expiry; ARGV field, now → 1 removed (it had expired), 0 touched since. */
const REMOVE_EXPIRED = luaScript(`
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if score and tonumber(score) > tonumber(ARGV[2]) then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`)

/** KEYS records, expiry; ARGV field, owner, source JSON, expiry → 1 written, 0 gone or owned elsewhere. */
const SET_SOURCE = luaScript(`
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local rec = cjson.decode(raw)
if rec.owner ~= ARGV[2] then return 0 end
rec.source = cjson.decode(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(rec))
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return 1
`)

export type ClaimResult = 'taken' | 'gone' | 'changed' | 'alive'

export interface PullStore {
  /** Stores a new instance; false when the group already has one with this id. */
  create (record: PullInstanceRecord): Promise<boolean>
  get (groupId: string, instanceId: string): Promise<PullInstanceRecord | undefined>
  /** Every instance of the group (all groups when absent). */
  list (groupId?: string): Promise<PullInstanceRecord[]>
  /** Pushes the expiry back (a request was served). */
  touch (record: PullInstanceRecord): Promise<void>
  setSource (record: PullInstanceRecord, source: PullSource): Promise<boolean>
  claim (record: PullInstanceRecord, owner: string, ownerUrl: string): Promise<ClaimResult>
  remove (groupId: string, instanceId: string): Promise<void>
  /** Removes every expired instance; returns the records removed. */
  sweepExpired (now?: number): Promise<PullInstanceRecord[]>
}

/**
 * cjson writes an empty array as `{}`: records are read back through this, so a subscription
 * or assignment list stays an array whatever it held.
 */
function parseRecord (text: string): PullInstanceRecord {
  const rec = JSON.parse(text) as PullInstanceRecord
  const source = rec.source as { kind: string, topics?: unknown, partitions?: unknown }
  if (source.kind === 'subscription' && !Array.isArray(source.topics)) source.topics = []
  if (source.kind === 'assignment' && !Array.isArray(source.partitions)) source.partitions = []
  return rec
}

export function createPullStore ({ redis, keys, aliveKey }: { redis: Redis, keys: PullKeys, aliveKey: (clientId: string) => string }): PullStore {
  const expiryOf = (r: PullInstanceRecord): number => Date.now() + r.settings.instanceTimeoutMs
  return {
    async create (record) {
      const field = pullField(record.groupId, record.instanceId)
      const set = await redis.hsetnx(keys.records, field, JSON.stringify(record))
      if (set === 1) await redis.zadd(keys.expiry, expiryOf(record), field)
      return set === 1
    },
    async get (groupId, instanceId) {
      const raw = await redis.hget(keys.records, pullField(groupId, instanceId))
      return raw === null ? undefined : parseRecord(raw)
    },
    async list (groupId) {
      const all = await redis.hgetall(keys.records)
      return Object.entries(all)
        .filter(([field]) => groupId === undefined || field.startsWith(`${groupId}/`))
        .map(([, raw]) => parseRecord(raw))
        .sort((a, b) => pullField(a.groupId, a.instanceId).localeCompare(pullField(b.groupId, b.instanceId)))
    },
    async touch (record) {
      await redis.zadd(keys.expiry, 'XX', expiryOf(record), pullField(record.groupId, record.instanceId))
    },
    async setSource (record, source) {
      const r = await SET_SOURCE.run(redis, [keys.records, keys.expiry], [pullField(record.groupId, record.instanceId), record.owner, JSON.stringify(source), expiryOf(record)])
      return r === 1
    },
    async claim (record, owner, ownerUrl) {
      const r = await CLAIM.run(redis, [keys.records, keys.expiry, aliveKey(record.owner)], [pullField(record.groupId, record.instanceId), record.owner, owner, ownerUrl, expiryOf(record)])
      return r === 1 ? 'taken' : r === 0 ? 'gone' : r === 2 ? 'changed' : 'alive'
    },
    async remove (groupId, instanceId) {
      const field = pullField(groupId, instanceId)
      await redis.multi().hdel(keys.records, field).zrem(keys.expiry, field).exec()
    },
    async sweepExpired (now = Date.now()) {
      const fields = await redis.zrangebyscore(keys.expiry, '-inf', now)
      const removed: PullInstanceRecord[] = []
      for (const field of fields) {
        const raw = await redis.hget(keys.records, field)
        const r = await REMOVE_EXPIRED.run(redis, [keys.records, keys.expiry], [field, now])
        if (r === 1 && raw !== null) removed.push(parseRecord(raw))
      }
      return removed
    }
  }
}
