import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config/env.js'
import { AppError } from '../errors.js'
import { sendError } from './error-handler.js'

/**
 * Answers 503 + Retry-After when the event loop lags or RSS passes its bound, instead of falling over.
 * Health routes are exempt so probes see the process; readiness reports dependencies, not load.
 */
export async function installLoadShedding (app: FastifyInstance, config: Config): Promise<void> {
  await app.register(underPressure, {
    maxEventLoopDelay: config.underPressure.maxEventLoopDelayMs,
    maxRssBytes: config.underPressure.maxRssBytes,
    sampleInterval: 100,
    retryAfter: 1,
    pressureHandler: (request, reply, type, value) => {
      if (request.routeOptions.url?.startsWith('/health/') === true) return
      request.log.warn({ pressure: type, value }, 'shedding load')
      reply.header('retry-after', '1')
      sendError(reply, new AppError(503, 'GW_OVERLOADED', `gateway overloaded (${type} ${String(value)}); retry shortly`, { retryAfterSeconds: 1 }))
    }
  })
}
