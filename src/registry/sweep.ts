/**
 * Every instance, every heartbeat, removes what dead gateway instances left behind: for each member of
 * `<key>:gateways` whose heartbeat key is gone, its registry field, status hash and stop markers, and the
 * membership itself — in one script that re-checks the heartbeat, so an instance that just came back is untouched.
 */
import type { Redis } from 'ioredis'
import type { RegistryKeys } from './keys.js'
import { aliveAmong } from './liveness.js'
import { luaScript } from './scripts.js'

/** KEYS alive, registry, status, stopped, gateways; ARGV clientId → 1 swept, 0 alive. */
const SWEEP = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[3])
redis.call('DEL', KEYS[4])
redis.call('SREM', KEYS[5], ARGV[1])
return 1
`)

/** Sweeps dead gateway instances; returns the clientIds removed. */
export async function sweepDeadInstances (redis: Redis, keys: RegistryKeys, selfClientId: string): Promise<string[]> {
  const members = (await redis.smembers(keys.gateways)).filter(id => id !== selfClientId)
  if (members.length === 0) return []
  const alive = await aliveAmong(redis, keys, members)
  const dead = members.filter(id => !alive.has(id))
  const swept: string[] = []
  for (const id of dead) {
    const r = await SWEEP.run(redis, [keys.alive(id), keys.registry, keys.status(id), keys.stopped(id), keys.gateways], [id])
    if (r === 1) swept.push(id)
  }
  return swept
}
