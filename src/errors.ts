/**
 * The one error model: every 4xx/5xx the gateway answers is an AppError rendered by the
 * error handler as { statusCode, error, code, message, details? }. Codes are stable API.
 */
export type ErrorCode =
  | 'GW_VALIDATION'
  | 'GW_UNAUTHORIZED'
  | 'GW_FORBIDDEN'
  | 'GW_NOT_FOUND'
  | 'GW_TOPIC_NOT_FOUND'
  | 'GW_PARTITION_OUT_OF_RANGE'
  | 'GW_ARRIVAL_UNROUTABLE'
  | 'GW_UNSUPPORTED_MEDIA_TYPE'
  | 'GW_PAYLOAD_TOO_LARGE'
  | 'GW_CONFLICT'
  | 'GW_IDEMPOTENCY_IN_PROGRESS'
  | 'GW_IDEMPOTENCY_KEY_REUSED'
  | 'GW_KAFKA_UNAVAILABLE'
  | 'GW_KAFKA_TIMEOUT'
  | 'GW_KAFKA_REJECTED'
  | 'GW_REDIS_UNAVAILABLE'
  | 'GW_OVERLOADED'
  | 'GW_SHUTTING_DOWN'
  | 'GW_OWNER_UNAVAILABLE'
  | 'GW_INTERNAL'

export interface ErrorDetail {
  /** JSON pointer-ish path of the offending field, e.g. "/messages/0/value" */
  field?: string
  /** the rule that was broken, e.g. "required", "maxLength", "type" */
  rule?: string
  message: string
  [extra: string]: unknown
}

export class AppError extends Error {
  readonly statusCode: number
  readonly code: ErrorCode
  readonly details: ErrorDetail[] | undefined
  readonly retriable: boolean
  readonly retryAfterSeconds: number | undefined

  constructor (statusCode: number, code: ErrorCode, message: string, opts: {
    details?: ErrorDetail[]
    cause?: unknown
    retriable?: boolean
    retryAfterSeconds?: number
  } = {}) {
    super(message, { cause: opts.cause })
    this.name = 'AppError'
    this.statusCode = statusCode
    this.code = code
    this.details = opts.details
    this.retriable = opts.retriable ?? statusCode >= 500
    this.retryAfterSeconds = opts.retryAfterSeconds
  }
}

export const validationError = (message: string, details: ErrorDetail[]): AppError =>
  new AppError(400, 'GW_VALIDATION', message, { details })

export const fieldError = (field: string, rule: string, message: string): AppError =>
  validationError(`${field}: ${message}`, [{ field, rule, message }])

export const kafkaUnavailable = (message: string, cause?: unknown): AppError =>
  new AppError(503, 'GW_KAFKA_UNAVAILABLE', message, { cause, retryAfterSeconds: 1 })

export const redisUnavailable = (message: string, cause?: unknown): AppError =>
  new AppError(503, 'GW_REDIS_UNAVAILABLE', message, { cause, retryAfterSeconds: 1 })

export const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout'
}
