import fp from 'fastify-plugin'
import type { Admin } from 'kafkajs'
import type { Logger } from 'pino'
import type { Config } from '../config/env.js'
import { createTopicMetadataCache } from '../kafka/topics.js'
import { createArrivalResolver } from '../registry/arrival.js'
import { registryKeys } from '../registry/keys.js'
import messageRoutes from '../routes/messages.js'
import { createIdempotencyStore } from './idempotency.js'
import { createProduceService, type ProduceService } from './service.js'
import type { ProduceObserver } from './types.js'

declare module 'fastify' {
  interface FastifyInstance {
    produce: ProduceService
  }
}

export interface ProducePluginOptions {
  config: Config
  logger: Logger
  /** Metrics hook: called after every Kafka batch and every produce request. */
  observer?: ProduceObserver
}

/**
 * The produce service (decorated as `app.produce`) and POST /messages. Batches gathering at shutdown
 * are sent (preClose) and waited for (onClose, which runs before the Kafka core disconnects).
 */
export default fp<ProducePluginOptions>(async (app, { config, logger, observer }) => {
  const keys = registryKeys(config.registry.key)
  const getAdmin = (): Promise<Admin> => app.kafka.connectedAdmin()
  const service = createProduceService({
    kafka: app.kafka,
    topics: createTopicMetadataCache(getAdmin),
    arrival: createArrivalResolver({ redis: app.redis.redis, keys, getAdmin, logger }),
    idempotency: createIdempotencyStore({
      redis: app.redis.redis,
      keys,
      ttlSeconds: config.produce.idempotencyTtlSeconds,
      inProgressMs: config.requestTimeoutMs + 5000,
      logger
    }),
    config: config.produce,
    logger,
    ...(observer !== undefined ? { observer } : {})
  })
  app.decorate('produce', service)
  app.addHook('preClose', async () => { service.flush() })
  app.addHook('onClose', async () => { await service.close() })
  await app.register(messageRoutes)
}, { name: 'produce', fastify: '5.x', dependencies: ['kafka', 'redis'] })
