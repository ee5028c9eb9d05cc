import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config/env.js'
import { AppError } from '../errors.js'

/**
 * Answers 503 + Retry-After when the event loop lags or RSS passes its bound, instead of falling over.
 * Health routes are exempt so probes see the process; readiness reports dependencies, not load.
 */
export async function installLoadShedding (app: FastifyInstance, config: Config): Promise<void> {
  await app.register(underPressure, {
    maxEventLoopDelay: config.underPressure.maxEventLoopDelayMs,
    maxRssBytes: config.underPressure.maxRssBytes,
    // under-pressure reports an interval with no event-loop sample at all (a stall longer than the
    // interval) as an infinite delay; sampling no faster than the bound keeps short stalls under it
    sampleInterval: Math.max(100, config.underPressure.maxEventLoopDelayMs),
    retryAfter: 1,
    // A rejection goes to the one error handler and the route never runs; returning nothing lets the request through.
    pressureHandler: async (request, _reply, type, value) => {
      if (request.routeOptions.url?.startsWith('/health/') === true) return
      request.log.warn({ pressure: type, value }, 'shedding load')
      throw new AppError(503, 'GW_OVERLOADED', `gateway overloaded (${type} ${String(value)}); retry shortly`, { retryAfterSeconds: 1 })
    }
  })
}
