import fp from 'fastify-plugin'
import Fastify from 'fastify'
import type { Config } from '../config/env.js'
import { createMetrics, type Metrics } from './metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

/**
 * Prometheus metrics: HTTP requests by route and status, and the registry that produce and delivery feed.
 * Served at GET /metrics (behind API keys like every non-health route), or on METRICS_PORT when set.
 */
export default fp<{ config: Config }>(async (app, { config }) => {
  const metrics = createMetrics()
  app.decorate('metrics', metrics)

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) })
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000)
  })

  const schema = {
    tags: ['operations'],
    summary: 'Prometheus metrics in text exposition format',
    produces: ['text/plain']
  }
  const handler = async (): Promise<string> => await metrics.registry.metrics()

  if (config.metrics.port === undefined) {
    app.get('/metrics', { schema }, async (_request, reply) => {
      reply.type(metrics.registry.contentType)
      return await handler()
    })
    return
  }

  // A separate listener keeps scrapes off the public port (and outside API keys).
  const server = Fastify({ logger: false })
  server.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType)
    return await handler()
  })
  app.lifecycle.onStart('metrics-listener', async () => {
    await server.listen({ port: config.metrics.port ?? 0, host: config.host })
  })
  app.addHook('onClose', async () => { await server.close() })
}, { name: 'metrics', fastify: '5.x', dependencies: ['lifecycle'] })
