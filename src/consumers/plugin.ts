import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import type { Config } from '../config/env.js'
import { createTopicMetadataCache } from '../kafka/topics.js'
import { registryKeys } from '../registry/keys.js'
import type { Liveness } from '../registry/liveness.js'
import { createRegistry } from '../registry/registry.js'
import type { Deliverer } from '../webhooks/types.js'
import type { DeliveryEvents } from './delivery-events.js'
import { createConsumerService, type ConsumerService } from './service.js'
import { createLagAdmin } from './lag.js'
import { createDefinitionStore } from './store.js'
import { createSupervisor, type Supervisor } from './supervisor/supervisor.js'

declare module 'fastify' {
  interface FastifyInstance {
    consumers: ConsumerService
    consumerSupervisor: Supervisor
  }
}

export interface ConsumersPluginOptions {
  config: Config
  logger: Logger
  /** Delivers each consumed record (src/webhooks/delivery/deliverer.ts); closed after the consumers stop. */
  deliverer: Deliverer
  /** The deliverer's events (its observer): they feed the status counters per group and partition. */
  deliveryEvents?: DeliveryEvents
  /** This instance's heartbeat (registry/liveness.ts), shared with the produce plugin's Idempotency-Key markers. */
  liveness: Liveness
}

/**
 * Consumer groups and the supervisor that runs them on this instance (decorated as `app.consumers`, `app.consumerSupervisor`).
 * Starts (lifecycle task `consumers`) after Kafka and Redis: takes the heartbeat — refusing to start
 * when the clientId is live elsewhere — and reconciles. On close (before Kafka and Redis close):
 * stops every consumer (leaving their groups), removes this instance's registry entry, status and
 * heartbeat, then closes the deliverer.
 */
export default fp<ConsumersPluginOptions>(async (app, { config, logger, deliverer, deliveryEvents, liveness }) => {
  const keys = registryKeys(config.registry.key)
  const redis = app.redis.redis
  const clientId = config.kafka.clientId
  const registry = createRegistry({ redis, keys, logger })
  const store = createDefinitionStore({ redis, keys })
  const lagAdmin = createLagAdmin(app.kafka.kafka)
  const supervisor = createSupervisor({
    clientId,
    heartbeatMs: config.registry.heartbeatMs,
    redis,
    keys,
    kafka: app.kafka.kafka,
    deliverer,
    registry,
    liveness,
    store,
    logger,
    lagAdmin,
    stopGraceMs: config.shutdownDeliveryGraceMs
  })
  const unsubscribe = deliveryEvents?.subscribe(e => { supervisor.onDeliveryEvent(e) })
  const service = createConsumerService({
    clientId,
    redis,
    keys,
    store,
    registry,
    supervisor,
    topics: createTopicMetadataCache(() => app.kafka.connectedAdmin()),
    allowedHosts: config.webhooks.allowedHosts,
    blockedAddresses: config.webhooks.blockedAddresses,
    logger
  })
  app.decorate('consumers', service)
  app.decorate('consumerSupervisor', supervisor)
  app.lifecycle.onStart('consumers', () => supervisor.start())
  app.addHook('onClose', async () => {
    await supervisor.close()
    await Promise.all([deliverer.close(), lagAdmin.close()])
    unsubscribe?.()
  })
}, { name: 'consumers', fastify: '5.x', dependencies: ['lifecycle', 'kafka', 'redis'] })
