import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { withTimeout } from '../util/async.js'

export interface RedisClient {
  readonly redis: Redis
  /** Connects; a failure is logged (ioredis keeps reconnecting in the background), never thrown. */
  start (): Promise<void>
  ping (timeoutMs: number): Promise<void>
  close (): Promise<void>
}

/**
 * One Redis connection for the instance. Commands fail fast while Redis is away (no offline queue),
 * so HTTP requests answer 503 at once instead of hanging; ioredis reconnects by itself.
 */
export function createRedisClient (url: string, logger: Logger): RedisClient {
  const log = logger.child({ component: 'redis' })
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 5000,
    connectTimeout: 3000,
    retryStrategy: (times) => Math.min(times * 200, 2000)
  })
  let lastError = ''
  redis.on('error', (err: Error) => {
    // ioredis emits the same error on every reconnect attempt; log each distinct one once
    if (err.message !== lastError) log.warn({ err }, 'redis error')
    lastError = err.message
  })
  redis.on('ready', () => {
    if (lastError !== '') log.info('redis connection restored')
    lastError = ''
  })

  return {
    redis,
    async start () {
      await redis.connect().catch((err: unknown) => {
        log.warn({ err }, 'redis not reachable at start; reconnecting in the background')
      })
    },
    async ping (timeoutMs) {
      await withTimeout(redis.ping(), timeoutMs, 'redis PING timed out')
    },
    async close () {
      await redis.quit().catch(() => redis.disconnect())
    }
  }
}
