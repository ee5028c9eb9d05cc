import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

/** A Lua script run with EVALSHA, falling back to EVAL when Redis does not know it (first use, or after a restart). */
export interface LuaScript {
  run (redis: Redis, keys: string[], args: Array<string | number>): Promise<unknown>
}

export function luaScript (source: string): LuaScript {
  const sha = createHash('sha1').update(source).digest('hex')
  return {
    async run (redis, keys, args) {
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args)
      } catch (err) {
        if (!(err instanceof Error) || !err.message.includes('NOSCRIPT')) throw err
        return await redis.eval(source, keys.length, ...keys, ...args)
      }
    }
  }
}
