import fp from 'fastify-plugin'
import type { Admin } from 'kafkajs'
import type { Logger } from 'pino'
import type { Config } from '../config/env.js'
import { createTopicMetadataCache } from '../kafka/topics.js'
import { createArrivalResolver } from '../registry/arrival.js'
import { registryKeys } from '../registry/keys.js'
import { createIdempotencyStore, type MarkerOwner } from './idempotency.js'
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
  /** This instance's heartbeat key and token: Idempotency-Key markers name it, so a retry can tell it is gone. */
  owner?: MarkerOwner
  /** Metrics hook: called after every Kafka batch and every produce request. */
  observer?: ProduceObserver
}

/**
 * The produce service (decorated as `app.produce`; src/app.ts hands it to POST /messages).
 *
 * Shutdown: preClose sends the batches gathering at that moment; Fastify then waits for every request
 * in flight to be answered before any onClose hook runs. This plugin's onClose (which runs before the
 * Redis and Kafka plugins close their clients) also waits for produce calls whose client went away —
 * a request whose socket closed no longer holds the listener — and then for every batch in flight,
 * and refuses new produces (503 GW_SHUTTING_DOWN). So every request that got, or will get, a 2xx was
 * acknowledged by Kafka before the producer disconnects.
 */
export default fp<ProducePluginOptions>(async (app, { config, logger, owner, observer }) => {
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
      ...(owner !== undefined ? { owner } : {}),
      logger
    }),
    config: config.produce,
    logger,
    ...(observer !== undefined ? { observer } : {})
  })
  const pending = new Set<Promise<unknown>>()
  const tracked: ProduceService = {
    ...service,
    produce (request, ctx) {
      const call = service.produce(request, ctx)
      pending.add(call)
      call.then(() => { pending.delete(call) }, () => { pending.delete(call) })
      return call
    }
  }
  app.decorate('produce', tracked)
  app.addHook('preClose', async () => { service.flush() })
  app.addHook('onClose', async () => {
    const calls = pending.size
    const gathering = service.stats().gathering
    while (pending.size > 0) {
      service.flush()
      await Promise.allSettled([...pending])
    }
    await service.close()
    const { batches, records, failedBatches } = service.stats()
    logger.info({ component: 'produce', callsAwaited: calls, recordsGathering: gathering, batches, records, failedBatches }, 'produce closed: every accepted batch answered by Kafka')
  })
}, { name: 'produce', fastify: '5.x', dependencies: ['kafka', 'redis'] })
