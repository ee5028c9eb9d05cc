/**
 * A request for a pull instance held by another gateway instance is forwarded there as it came (method,
 * path and query, headers, the body re-serialised), marked with FORWARDED_HEADER so the owner never
 * forwards it again, and its answer relayed as it is. An owner that cannot be reached (killed moments ago:
 * its heartbeat has not expired yet) is a retriable 503; once its heartbeat expires, the next request moves
 * the instance.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { request as send } from 'undici'
import { AppError } from '../errors.js'

export const FORWARDED_HEADER = 'x-gateway-forwarded-by'
const HOP_BY_HOP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect'])
const RELAYED = ['content-type', 'retry-after', 'x-request-id']

export async function forwardToOwner (request: FastifyRequest, reply: FastifyReply, target: { url: string, owner: string, self: string, timeoutMs: number }): Promise<FastifyReply> {
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(request.headers)) if (!HOP_BY_HOP.has(k) && typeof v === 'string') headers[k] = v
  headers[FORWARDED_HEADER] = target.self
  headers['x-request-id'] = request.id
  const body = request.body === undefined || request.body === null ? undefined : JSON.stringify(request.body)
  // a POST that came without a body has `{}` by now (src/routes/pull.ts): it goes on as JSON
  if (body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json'
  try {
    const res = await send(`${target.url}${request.url}`, {
      method: request.method as 'GET',
      headers,
      ...(body !== undefined ? { body } : {}),
      headersTimeout: target.timeoutMs,
      bodyTimeout: target.timeoutMs
    })
    const text = await res.body.text()
    for (const name of RELAYED) {
      const v = res.headers[name]
      if (typeof v === 'string') void reply.header(name, v)
    }
    return await reply.code(res.statusCode).send(text)
  } catch (err) {
    throw new AppError(503, 'GW_KAFKA_UNAVAILABLE', `the gateway instance "${target.owner}" holding this consumer instance did not answer; retry (it moves to another instance once that one's heartbeat expires)`, {
      cause: err,
      retryAfterSeconds: 1,
      details: [{ rule: 'ownerReachable', message: `forwarding to ${target.url} failed: ${(err as Error).message}` }]
    })
  }
}
