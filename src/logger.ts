import type { LoggerOptions } from 'pino'
import type { Config } from './config/env.js'

/** Paths pino replaces with [Redacted]: credentials, webhook secrets and custom webhook headers. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["idempotency-key"]',
  'headers.authorization',
  'authorization',
  'password',
  '*.password',
  '*.*.password',
  'secret',
  '*.secret',
  '*.*.secret',
  'secrets',
  '*.secrets',
  '*.*.secrets',
  'webhook.headers',
  '*.webhook.headers',
  'apiKeys',
  '*.apiKeys'
]

export function loggerOptions (config: Pick<Config, 'logLevel'>): LoggerOptions {
  return {
    level: config.logLevel,
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    base: { service: 'kafka-http-gateway' }
  }
}
