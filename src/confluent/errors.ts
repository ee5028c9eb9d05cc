/**
 * Confluent REST Proxy's error answers `{ error_code, message }`, as its clients read them: the
 * consumer codes of its Errors.java for the pull routes under `/consumers/…`, and the sending itself
 * (shared with the v2 produce routes).
 */
import type { FastifyReply } from 'fastify'
import type { AppError } from '../errors.js'
import { CONFLUENT_V2, toConfluentError, type ConfluentError } from './produce.js'

/** Confluent's codes for what a consumer instance request can fail on; the rest as for produce. */
function consumerCode (err: AppError): number | undefined {
  switch (err.code) {
    case 'GW_NOT_FOUND': return 40403 // consumer instance not found
    case 'GW_CONFLICT': return err.details?.some(d => d.rule === 'unique') === true ? 40902 : 40903 // already exists : illegal state
    case 'GW_KAFKA_UNAVAILABLE':
    case 'GW_OWNER_UNAVAILABLE': return 50003 // retriable
    default: return undefined
  }
}

export function toConfluentConsumerError (err: AppError): ConfluentError {
  const out = toConfluentError(err, false)
  const code = consumerCode(err)
  return code === undefined ? out : { status: out.status, body: { ...out.body, error_code: code } }
}

export function sendConfluentError (reply: FastifyReply, appErr: AppError, out: ConfluentError): FastifyReply {
  if (appErr.retryAfterSeconds !== undefined) reply.header('retry-after', String(appErr.retryAfterSeconds))
  return reply.code(out.status).type(CONFLUENT_V2).send(out.body)
}
