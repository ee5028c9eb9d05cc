import { hostname } from 'node:os'
import type { AddressInfo } from 'node:net'
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import type { Config } from '../config/env.js'
import { createDefinitionStore } from '../consumers/store.js'
import { createTopicMetadataCache } from '../kafka/topics.js'
import { registryKeys } from '../registry/keys.js'
import { aliveAmong } from '../registry/liveness.js'
import { createRegistry } from '../registry/registry.js'
import { createPullService, type PullService } from './service.js'
import { createPullStore, pullKeys } from './store.js'

declare module 'fastify' {
  interface FastifyInstance {
    pull: PullService
  }
}

/** A wildcard listen address is no address another instance can use: the host name stands in. */
const reachableHost = (host: string): string => host === '0.0.0.0' || host === '::' ? hostname() : host.includes(':') ? `[${host}]` : host

/**
 * Pull consumer instances (decorated as `app.pull`). Registered after the consumers plugin, so it closes
 * first: its consumers leave their groups while Kafka is still connected. Their records stay in Redis:
 * another gateway instance takes them over on their next request (this one's heartbeat is gone).
 */
export default fp<{ config: Config, logger: Logger }>(async (app, { config, logger }) => {
  const keys = registryKeys(config.registry.key)
  const redis = app.redis.redis
  const definitions = createDefinitionStore({ redis, keys })
  const advertisedUrl = (): string => {
    if (config.advertisedUrl !== undefined) return config.advertisedUrl
    const address = app.server.address() as AddressInfo | null
    return `http://${reachableHost(config.host)}:${address?.port ?? config.port}`
  }
  const service = createPullService({
    clientId: config.kafka.clientId,
    kafka: app.kafka.kafka,
    store: createPullStore({ redis, keys: pullKeys(keys), aliveKey: keys.alive }),
    registry: createRegistry({ redis, keys, logger }),
    topics: createTopicMetadataCache(() => app.kafka.connectedAdmin()),
    isAlive: async clientId => (await aliveAmong(redis, keys, [clientId])).has(clientId),
    advertisedUrl,
    webhookGroupDefined: async groupId => (await definitions.get(groupId)) !== undefined,
    sweepEveryMs: config.registry.heartbeatMs,
    logger
  })
  app.decorate('pull', service)
  app.consumerSupervisor.addPartsSource(() => service.parts())
  app.lifecycle.onStart('pull', async () => { service.start() })
  app.addHook('onClose', async () => { await service.close() })
}, { name: 'pull', fastify: '5.x', dependencies: ['lifecycle', 'kafka', 'redis', 'consumers'] })
