import type { FastifyInstance } from 'fastify'

/** One JSON line per request (Fastify's own two lines are turned off): method, route, status, duration, request id. */
export function installRequestLog (app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      url: request.url.split('?')[0],
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 100) / 100
    }, 'request')
  })
}
