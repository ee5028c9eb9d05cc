/**
 * Gateway liveness: `<key>:alive:<clientId>` holds a random token of the running instance with a TTL of
 * three heartbeats, refreshed every heartbeat, and the clientId is a member of `<key>:gateways`.
 * An instance killed without cleanup stops refreshing; its key expires and any other instance's sweep
 * (sweep.ts) removes what it left behind.
 */
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { RegistryKeys } from './keys.js'
import { luaScript } from './scripts.js'
import { sleep } from '../util/async.js'

/** KEYS alive, gateways; ARGV token, ttlMs, clientId → 1 refreshed, 2 re-acquired (it had expired), 0 held by another token. */
const REFRESH = luaScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('SADD', KEYS[2], ARGV[3])
  return 1
end
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  redis.call('SADD', KEYS[2], ARGV[3])
  return 2
end
return 0
`)

/**
 * KEYS alive, registry, status, stopped, gateways, groups, epoch; ARGV token, clientId → 1 released, 0 not
 * ours (nothing touched). The last instance to leave a registry without definitions also drops the epoch.
 */
const RELEASE = luaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[3])
redis.call('DEL', KEYS[4])
redis.call('SREM', KEYS[5], ARGV[2])
if redis.call('SCARD', KEYS[5]) == 0 and redis.call('EXISTS', KEYS[6]) == 0 then redis.call('DEL', KEYS[7]) end
return 1
`)

/** Raised at start when another live instance already uses this clientId. */
/** Which of `clientIds` have their heartbeat key (one pipelined EXISTS each). */
export async function aliveAmong (redis: Redis, keys: RegistryKeys, clientIds: readonly string[]): Promise<Set<string>> {
  const alive = new Set<string>()
  if (clientIds.length === 0) return alive
  const pipeline = redis.pipeline()
  for (const id of clientIds) pipeline.exists(keys.alive(id))
  const results = await pipeline.exec() ?? []
  results.forEach(([err, n], i) => {
    if (err !== null) throw err
    const id = clientIds[i]
    if (n === 1 && id !== undefined) alive.add(id)
  })
  return alive
}

export class DuplicateClientIdError extends Error {
  constructor (readonly clientId: string, key: string) {
    super(`KAFKA_CLIENT_ID "${clientId}" is already used by a live gateway instance (its heartbeat ${key} is being refreshed). ` +
      'Every instance needs its own KAFKA_CLIENT_ID; this one refuses to start.')
    this.name = 'DuplicateClientIdError'
  }
}

export type RefreshResult = 'refreshed' | 'reacquired' | 'taken'

export interface Liveness {
  readonly token: string
  /** The heartbeat key (`<key>:alive:<clientId>`), which holds `token` while this instance lives. */
  readonly aliveKey: string
  readonly ttlMs: number
  /** Wall-clock ms of the last successful acquire or refresh; undefined before the first one and after release. */
  readonly lastRefreshedAt: number | undefined
  /**
   * Takes the heartbeat key. When it exists, waits (up to one TTL) to tell a leftover of a killed
   * instance (it expires) from a live one (its TTL is pushed back): the latter throws DuplicateClientIdError.
   */
  acquire (): Promise<void>
  refresh (): Promise<RefreshResult>
  /** Deletes the heartbeat, registry field, status and stop markers of this instance (only if still ours). */
  release (): Promise<boolean>
}

export function createLiveness ({ redis, keys, clientId, heartbeatMs }: { redis: Redis, keys: RegistryKeys, clientId: string, heartbeatMs: number }): Liveness {
  const token = randomBytes(12).toString('hex')
  const ttlMs = 3 * heartbeatMs
  const aliveKey = keys.alive(clientId)
  let lastRefreshedAt: number | undefined

  return {
    token,
    aliveKey,
    ttlMs,
    get lastRefreshedAt () { return lastRefreshedAt },
    async acquire () {
      const deadline = Date.now() + ttlMs + heartbeatMs
      const pollMs = Math.max(50, Math.min(250, Math.floor(heartbeatMs / 4)))
      let lastTtl: number | undefined
      for (;;) {
        const set = await redis.set(aliveKey, token, 'PX', ttlMs, 'NX')
        if (set === 'OK') {
          await redis.sadd(keys.gateways, clientId)
          lastRefreshedAt = Date.now()
          return
        }
        const ttl = await redis.pttl(aliveKey)
        // a live owner refreshes every heartbeat, pushing the TTL back up; a dead one's only goes down
        if (ttl > 0 && lastTtl !== undefined && ttl > lastTtl + pollMs / 2) throw new DuplicateClientIdError(clientId, aliveKey)
        if (ttl === -1) throw new DuplicateClientIdError(clientId, aliveKey) // no TTL: not ours to judge
        if (Date.now() > deadline) throw new DuplicateClientIdError(clientId, aliveKey)
        if (ttl > 0) lastTtl = ttl
        await sleep(pollMs)
      }
    },
    async refresh () {
      const r = await REFRESH.run(redis, [aliveKey, keys.gateways], [token, ttlMs, clientId])
      // held by another token: keep the last success, so the heartbeat age keeps growing
      if (r === 1 || r === 2) lastRefreshedAt = Date.now()
      return r === 1 ? 'refreshed' : r === 2 ? 'reacquired' : 'taken'
    },
    async release () {
      const r = await RELEASE.run(redis, [aliveKey, keys.registry, keys.status(clientId), keys.stopped(clientId), keys.gateways, keys.groups, keys.epoch], [token, clientId])
      lastRefreshedAt = undefined
      return r === 1
    }
  }
}
