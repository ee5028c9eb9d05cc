import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify'
import { AppError, STATUS_TEXT, type ErrorCode, type ErrorDetail } from '../errors.js'

interface AjvIssue {
  instancePath?: string
  keyword?: string
  message?: string
  params?: Record<string, unknown>
}

/** Turns one Ajv issue into "field + rule + message"; the field names the exact property at fault. */
export function detailFromAjv (issue: AjvIssue, part: string): ErrorDetail {
  const params = issue.params ?? {}
  let path = issue.instancePath ?? ''
  if (typeof params.missingProperty === 'string') path += `/${params.missingProperty}`
  if (typeof params.additionalProperty === 'string') path += `/${params.additionalProperty}`
  if (typeof params.propertyName === 'string') path += `/${params.propertyName}`
  const field = `${part}${path}`
  const rule = issue.keyword ?? 'invalid'
  let message = issue.message ?? 'is invalid'
  if (rule === 'additionalProperties') message = `unknown property "${String(params.additionalProperty)}"`
  if (rule === 'required') message = 'is required'
  if (rule === 'enum' && Array.isArray(params.allowedValues)) message = `must be one of ${params.allowedValues.map(v => JSON.stringify(v)).join(', ')}`
  return { field, rule, message }
}

function fromFastifyError (err: FastifyError): AppError {
  if (err.validation !== undefined) {
    const part = err.validationContext ?? 'body'
    const details = err.validation.map(v => detailFromAjv(v as AjvIssue, part))
    const first = details[0]
    const message = first === undefined ? 'request is invalid' : `${first.field ?? part}: ${first.message}`
    return new AppError(400, 'GW_VALIDATION', message, { details })
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError(413, 'GW_PAYLOAD_TOO_LARGE', 'request body is larger than the configured limit (BODY_LIMIT_BYTES)', { details: [{ field: 'body', rule: 'bodyLimit', message: err.message }] })
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(415, 'GW_UNSUPPORTED_MEDIA_TYPE', 'only application/json request bodies are accepted', { details: [{ field: 'header/content-type', rule: 'mediaType', message: err.message }] })
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError(400, 'GW_VALIDATION', 'body: a JSON body is required', { details: [{ field: 'body', rule: 'required', message: 'body is empty' }] })
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError(400, 'GW_VALIDATION', 'content-length does not match the body', { details: [{ field: 'header/content-length', rule: 'contentLength', message: err.message }] })
    default:
      break
  }
  const status = err.statusCode ?? 500
  if (err instanceof SyntaxError || (status === 400 && /JSON/i.test(err.message))) {
    return new AppError(400, 'GW_VALIDATION', `body: not valid JSON (${err.message})`, { details: [{ field: 'body', rule: 'json', message: err.message }] })
  }
  if (status >= 400 && status < 500) {
    const code: ErrorCode = status === 404 ? 'GW_NOT_FOUND' : status === 401 ? 'GW_UNAUTHORIZED' : 'GW_VALIDATION'
    return new AppError(status, code, err.message)
  }
  if (status === 503) return new AppError(503, 'GW_OVERLOADED', err.message, { retryAfterSeconds: 1 })
  return new AppError(500, 'GW_INTERNAL', 'internal error', { cause: err })
}

export function toAppError (err: unknown): AppError {
  if (err instanceof AppError) return err
  if (err instanceof Error) return fromFastifyError(err as FastifyError)
  return new AppError(500, 'GW_INTERNAL', 'internal error', { cause: err })
}

const statusText = (status: number): string => STATUS_TEXT[status] ?? STATUS_CODES[status] ?? 'Error'

/** The one error body. */
function errorPayload (appErr: AppError): Record<string, unknown> {
  return {
    statusCode: appErr.statusCode,
    error: statusText(appErr.statusCode),
    code: appErr.code,
    message: appErr.message,
    ...(appErr.details !== undefined ? { details: appErr.details } : {})
  }
}

export function sendError (reply: FastifyReply, appErr: AppError): FastifyReply {
  if (appErr.retryAfterSeconds !== undefined) reply.header('retry-after', String(appErr.retryAfterSeconds))
  return reply.code(appErr.statusCode).type('application/json').send(errorPayload(appErr))
}

/** A failure in the log: 5xx with its cause at error level, 4xx as info (the client's mistake). */
export function logError (request: FastifyRequest, appErr: AppError, err: unknown): void {
  if (appErr.statusCode >= 500) request.log.error({ err: appErr.cause ?? err, code: appErr.code }, appErr.message)
  else request.log.info({ code: appErr.code, statusCode: appErr.statusCode }, appErr.message)
}

/** The one error handler: every failure leaves the gateway in the same JSON shape; 5xx internals stay in the log. */
export function installErrorHandler (app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const appErr = toAppError(err)
    logError(request, appErr, err)
    return sendError(reply, appErr)
  })
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new AppError(404, 'GW_NOT_FOUND', `route ${request.method} ${request.url.split('?')[0] ?? ''} does not exist`)))
}

/** Errors Fastify raises before routing (a URL that does not decode, a path parameter over the router's bound). */
function frameworkError (err: FastifyError): AppError {
  switch (err.code) {
    case 'FST_ERR_BAD_URL':
      return new AppError(400, 'GW_VALIDATION', 'url: the path is not valid percent-encoding', { details: [{ field: 'url', rule: 'urlEncoding', message: 'the path does not decode as UTF-8 percent-encoding' }] })
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError(400, 'GW_VALIDATION', 'params: a path parameter is too long', { details: [{ field: 'params', rule: 'maxLength', message: 'a path parameter is longer than the router accepts' }] })
    default:
      return new AppError(500, 'GW_INTERNAL', 'internal error', { cause: err })
  }
}

/**
 * Fastify options that keep the error shape where the error handler cannot reach: routing failures
 * (`frameworkErrors`) and requests Node's HTTP parser refuses (`clientErrorHandler`: malformed request
 * line or headers, header overflow, a body shorter than its Content-Length, the request timeout).
 */
export const edgeErrorOptions: Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler'> = {
  frameworkErrors: (err, request, reply) => {
    const appErr = frameworkError(err)
    if (appErr.statusCode >= 500) request.log.error({ err, code: appErr.code }, appErr.message)
    else request.log.info({ code: appErr.code, statusCode: appErr.statusCode }, appErr.message)
    void sendError(reply, appErr)
  },
  clientErrorHandler (this: FastifyInstance, err: Error & { code?: string }, socket: Socket) {
    if (err.code === 'ECONNRESET' || socket.destroyed) return
    const appErr = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new AppError(408, 'GW_VALIDATION', 'the request was not received in time (REQUEST_TIMEOUT_MS)')
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? new AppError(431, 'GW_VALIDATION', 'request headers are larger than the server accepts', { details: [{ field: 'headers', rule: 'maxHeaderSize', message: 'headers too large' }] })
        : new AppError(400, 'GW_VALIDATION', 'malformed HTTP request', { details: [{ field: 'request', rule: 'http', message: typeof err.code === 'string' ? err.code : 'parse error' }] })
    this.log.trace({ err, code: appErr.code, statusCode: appErr.statusCode }, 'client error')
    if (socket.writable) {
      // written on the socket: the request never became a Fastify request
      const body = JSON.stringify(errorPayload(appErr))
      socket.write(`HTTP/1.1 ${appErr.statusCode} ${statusText(appErr.statusCode)}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`)
    }
    socket.destroy(err)
  }
}
