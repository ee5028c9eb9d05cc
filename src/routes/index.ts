import type { FastifyInstance } from 'fastify'
import type { ConsumerService } from '../consumers/service.js'
import type { ProduceService } from '../produce/service.js'
import type { SseService } from '../sse/service.js'
import type { PullService } from '../pull/service.js'
import type { TopicService } from '../topics/service.js'
import confluentProduceRoutes from './confluent-produce.js'
import consumerGroupRoutes from './consumer-groups.js'
import consumerRoutes from './consumers.js'
import groupEventRoutes from './group-events.js'
import healthRoutes, { type HealthRoutesOptions } from './health.js'
import messageRoutes from './messages.js'
import openapiRoutes from './openapi.js'
import topicEventRoutes from './topic-events.js'
import pullRoutes from './pull.js'
import topicPartitionRoutes from './topic-partitions.js'
import topicRoutes from './topics.js'

/** The services the HTTP edge calls; routes get them here rather than reaching for app decorators. */
export interface RouteServices extends HealthRoutesOptions {
  produce: ProduceService
  consumers: ConsumerService
  topics: TopicService
  sse: SseService
  pull: PullService
}

/** Every route of the gateway, registered by the app factory once the services exist (imports run routes → services → clients). */
export async function registerRoutes (app: FastifyInstance, services: RouteServices): Promise<void> {
  await app.register(healthRoutes, { kafka: services.kafka, redis: services.redis })
  await app.register(openapiRoutes)
  await app.register(messageRoutes, { produce: services.produce })
  await app.register(consumerGroupRoutes, { consumers: services.consumers, pull: services.pull })
  await app.register(consumerRoutes, { consumers: services.consumers })
  await app.register(topicRoutes, { topics: services.topics })
  await app.register(topicPartitionRoutes, { topics: services.topics })
  await app.register(topicEventRoutes, { sse: services.sse })
  await app.register(confluentProduceRoutes, { produce: services.produce })
  await app.register(groupEventRoutes, { sse: services.sse })
  await app.register(pullRoutes, { pull: services.pull })
}
