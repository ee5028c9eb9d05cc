import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import type { Config } from '../config/env.js'
import { createKafkaCore, type KafkaCore } from './core.js'

declare module 'fastify' {
  interface FastifyInstance {
    kafka: KafkaCore
  }
}

/** The shared Kafka core (client, producer, admin) for the whole instance; closed last on shutdown. */
export default fp<{ config: Config, logger: Logger }>(async (app, { config, logger }) => {
  const core = createKafkaCore(config, logger)
  app.decorate('kafka', core)
  app.addHook('onClose', async () => { await core.close() })
}, { name: 'kafka', fastify: '5.x' })
