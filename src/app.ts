import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { randomUUID } from 'node:crypto'
import { pino, type Logger } from 'pino'
import type { Config } from './config/env.js'
import { loggerOptions } from './logger.js'
import { createValidatorCompiler } from './http/validation.js'
import { edgeErrorOptions, installErrorHandler } from './http/error-handler.js'
import { installApiKeyAuth } from './http/auth.js'
import { documentScopes } from './http/scopes.js'
import { ErrorSchema } from './http/schemas.js'
import { installLoadShedding } from './http/load-shedding.js'
import { installRequestLog } from './http/request-log.js'
import metricsPlugin from './metrics/plugin.js'
import lifecycle from './lifecycle.js'
import kafkaPlugin from './kafka/plugin.js'
import redisPlugin from './registry/plugin.js'
import { registerRoutes } from './routes/index.js'
import { createTopicService } from './topics/service.js'
import { createSseService, isDefinedGroup } from './sse/service.js'
import producePlugin from './produce/plugin.js'
import consumersPlugin from './consumers/plugin.js'
import pullPlugin from './pull/plugin.js'
import { createDeliveryEvents } from './consumers/delivery-events.js'
import { wireMetrics } from './metrics/wire.js'
import { createDeliverer } from './webhooks/delivery/deliverer.js'
import { webhookTlsOptions } from './config/tls-files.js'
import { userAgentFor } from './webhooks/delivery/user-agent.js'
import { openapiInfo } from './openapi-info.js'
import { registryKeys } from './registry/keys.js'
import { createLiveness } from './registry/liveness.js'

export interface BuildOptions {
  config: Config
  /** A logger to use instead of one built from the configuration (tests capture output with it). */
  logger?: Logger
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** The app factory: everything but `listen` and process signals, so tests build the same app the server runs. */
export async function buildApp ({ config, logger }: BuildOptions): Promise<FastifyInstance> {
  const log = logger ?? pino(loggerOptions(config))
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    requestIdHeader: false,
    // A caller's X-Request-Id is kept (when sane) so one id follows a message from POST to webhook.
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    // our own one-line-per-request log replaces Fastify's two lines (src/http/request-log.ts)
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: {} },
    // group ids are up to 249 characters; find-my-way's default (100) answered 414 for longer ones
    routerOptions: { maxParamLength: 256 },
    // routing and HTTP-parser failures in the one error shape too
    ...edgeErrorOptions
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setValidatorCompiler(createValidatorCompiler())
  installErrorHandler(app)
  installRequestLog(app)
  app.addHook('onSend', async (request, reply) => { reply.header('x-request-id', request.id) })
  app.addSchema(ErrorSchema)

  await app.register(lifecycle)
  await installLoadShedding(app, config)
  await app.register(metricsPlugin, { config })
  await app.register(kafkaPlugin, { config, logger: log })
  await app.register(redisPlugin, { config, logger: log })
  app.lifecycle.onStart('dependencies', async () => {
    await Promise.all([app.kafka.start(), app.redis.start()])
  })

  await app.register(swagger, { openapi: openapiInfo, refResolver: { buildLocalReference: (json, _base, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}` } })
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } })
  installApiKeyAuth(app, config.apiKeys, { docsPublic: config.docsPublic })
  documentScopes(app)

  // one heartbeat per instance: the supervisor keeps it, Idempotency-Key markers name it
  const liveness = createLiveness({ redis: app.redis.redis, keys: registryKeys(config.registry.key), clientId: config.kafka.clientId, heartbeatMs: config.registry.heartbeatMs })
  await app.register(producePlugin, { config, logger: log, owner: { alive: liveness.aliveKey, token: liveness.token } })
  // consumer groups deliver through the webhook engine; registered last so it closes first (before Kafka and Redis)
  const deliveryEvents = createDeliveryEvents(log)
  const deliverer = createDeliverer({
    getProducer: () => app.kafka.connectedProducer(),
    getAdmin: () => app.kafka.connectedAdmin(),
    logger: log,
    userAgent: userAgentFor(openapiInfo?.info?.version ?? '0'),
    defaults: { timeoutMs: config.webhooks.defaultTimeoutMs },
    allowedHosts: config.webhooks.allowedHosts,
    blockedAddresses: config.webhooks.blockedAddresses,
    tls: webhookTlsOptions(config.webhooks.tls),
    observer: deliveryEvents.emit
  })
  await app.register(consumersPlugin, { config, logger: log, deliverer, deliveryEvents, liveness })
  // pull consumers: after the consumers plugin, so they close first and their parts join its registry entry
  await app.register(pullPlugin, { config, logger: log })
  const topics = createTopicService({ getAdmin: () => app.kafka.connectedAdmin(), kafka: app.kafka.kafka, clientId: config.kafka.clientId, logger: log })
  const sse = createSseService({
    kafka: app.kafka.kafka,
    clientId: config.kafka.clientId,
    getAdmin: () => app.kafka.connectedAdmin(),
    logger: log,
    topics,
    isGroupDefined: groupId => isDefinedGroup(app.consumers, groupId),
    heartbeatMs: config.sse.heartbeatMs,
    maxStreams: config.sse.maxStreams
  })
  // streams end before Fastify waits for requests in flight (an open stream is one), while Kafka is connected
  app.addHook('preClose', async () => { await sse.stopAll() })
  await registerRoutes(app, { kafka: app.kafka, redis: app.redis, produce: app.produce, consumers: app.consumers, topics, sse, pull: app.pull })
  // produce and delivery events, consumer lag, the heartbeat age and open streams feed the Prometheus metrics
  const unwire = wireMetrics(app.metrics, { produce: app.produce, deliveries: deliveryEvents, consumers: app.consumerSupervisor, sse })
  app.addHook('onClose', async () => { unwire() })
  return app
}
