import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'

const DependencyStatus = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('fail')], { description: '`ok` when the dependency answered in time' }),
  latencyMs: Type.Number({ description: 'How long the check took' }),
  error: Type.Optional(Type.String({ description: 'Why the check failed' }))
}, { additionalProperties: false })

const ReadySchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable'), Type.Literal('shutting-down')], { description: 'Overall readiness' }),
  failed: Type.Array(Type.String(), { description: 'Names of the dependencies that failed (`kafka`, `redis`)' }),
  checks: Type.Object({ kafka: DependencyStatus, redis: DependencyStatus }, { additionalProperties: false, description: 'Per-dependency results' })
}, { additionalProperties: false })

const CHECK_TIMEOUT_MS = 2500

async function check (fn: () => Promise<void>): Promise<{ status: 'ok' | 'fail', latencyMs: number, error?: string }> {
  const started = performance.now()
  try {
    await fn()
    return { status: 'ok', latencyMs: Math.round(performance.now() - started) }
  } catch (err) {
    return { status: 'fail', latencyMs: Math.round(performance.now() - started), error: err instanceof Error ? err.message : String(err) }
  }
}

/** Liveness says the process answers; readiness says Kafka metadata and Redis PING both answer now. */
/** What readiness asks: each dependency's ping, with a deadline. */
export interface HealthRoutesOptions {
  kafka: { ping: (timeoutMs: number) => Promise<void> }
  redis: { ping: (timeoutMs: number) => Promise<void> }
}

const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app, { kafka: kafkaClient, redis: redisClient }) => {
  app.get('/health/live', {
    schema: {
      tags: ['health'],
      summary: 'Liveness: the process is up and its event loop answers',
      security: [],
      response: { 200: Type.Object({ status: Type.Literal('ok', { description: 'Always `ok`' }) }, { additionalProperties: false }) }
    }
  }, async () => ({ status: 'ok' as const }))

  app.get('/health/ready', {
    schema: {
      tags: ['health'],
      summary: 'Readiness: Kafka metadata reachable and Redis PING answered; 503 names what failed',
      security: [],
      response: { 200: ReadySchema, 503: ReadySchema }
    }
  }, async (_request, reply) => {
    const [kafka, redis] = await Promise.all([
      check(() => kafkaClient.ping(CHECK_TIMEOUT_MS)),
      check(() => redisClient.ping(CHECK_TIMEOUT_MS))
    ])
    const failed = [kafka.status === 'fail' ? 'kafka' : '', redis.status === 'fail' ? 'redis' : ''].filter(s => s !== '')
    if (app.lifecycle.shuttingDown) {
      reply.header('retry-after', '5')
      return reply.code(503).send({ status: 'shutting-down' as const, failed, checks: { kafka, redis } })
    }
    if (failed.length > 0) {
      reply.header('retry-after', '1')
      return reply.code(503).send({ status: 'unavailable' as const, failed, checks: { kafka, redis } })
    }
    return { status: 'ready' as const, failed, checks: { kafka, redis } }
  })
}

export default healthRoutes
