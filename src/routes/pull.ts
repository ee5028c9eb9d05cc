/**
 * Pull consumers (issue 13): the native routes under /consumer-groups/{groupId}/instances and their
 * Confluent REST Proxy v2 aliases under /consumers/{group}. This scope accepts Confluent's content types
 * and empty JSON bodies (Confluent clients POST some requests without one), answers errors under
 * /consumers/… in Confluent's shape (its clients read `error_code`), and sends every request for an
 * instance held by another gateway instance there before anything else runs (src/pull/forward.ts).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { sendConfluentError, toConfluentConsumerError } from '../confluent/errors.js'
import { logError, sendError, toAppError } from '../http/error-handler.js'
import { CONFLUENT_CONTENT_TYPES } from '../pull/formats.js'
import { FORWARDED_HEADER, forwardToOwner } from '../pull/forward.js'
import type { PullService } from '../pull/service.js'
import pullInstanceRoutes from './pull-instances.js'
import pullRecordRoutes from './pull-records.js'
import { isConfluentPath } from './pull-schemas.js'

export interface PullRoutesOptions { pull: PullService }

/** Forwarded long polls take up to 30 s; the owner answers within that plus a margin. */
const FORWARD_TIMEOUT_MS = 40_000

const pullRoutes: FastifyPluginAsync<PullRoutesOptions> = async (app, { pull }) => {
  const json = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser(['application/json', ...CONFLUENT_CONTENT_TYPES], { parseAs: 'string' }, (request, body, done) => {
    if (typeof body === 'string' && body.trim() === '') { done(null, undefined); return }
    json(request, body as string, done)
  })

  app.setErrorHandler((err, request, reply) => {
    const appErr = toAppError(err)
    logError(request, appErr, err)
    if (!isConfluentPath(request.url)) return sendError(reply, appErr)
    return sendConfluentError(reply, appErr, toConfluentConsumerError(appErr))
  })

  // a POST without a body is an empty one: the schema then names what is required
  app.addHook('preValidation', async (request) => {
    if (request.method === 'POST' && (request.body === undefined || request.body === null)) request.body = {}
  })

  app.addHook('preHandler', async (request: FastifyRequest, reply) => {
    const { groupId, instanceId } = request.params as { groupId?: string, instanceId?: string }
    if (groupId === undefined || instanceId === undefined) return
    const where = await pull.route(groupId, instanceId, request.headers[FORWARDED_HEADER] !== undefined)
    if ('forward' in where) return await forwardToOwner(request, reply, { url: where.forward, owner: where.owner, self: pull.clientId, timeoutMs: FORWARD_TIMEOUT_MS })
  })

  await app.register(pullInstanceRoutes, { pull })
  await app.register(pullRecordRoutes, { pull })
}

export default pullRoutes
