import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import type { Config } from '../config/env.js'
import { createRedisClient, type RedisClient } from './redis.js'

declare module 'fastify' {
  interface FastifyInstance {
    redis: RedisClient
  }
}

/** The instance's one Redis connection (registry, consumer-group definitions, idempotency keys). */
export default fp<{ config: Config, logger: Logger }>(async (app, { config, logger }) => {
  const client = createRedisClient(config.redis.url, logger)
  app.decorate('redis', client)
  app.addHook('onClose', async () => { await client.close() })
}, { name: 'redis', fastify: '5.x' })
