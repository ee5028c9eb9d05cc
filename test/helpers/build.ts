import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { pino, type Logger } from 'pino'
import type { Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config/env.js'

/** A name no other test (file or run) uses: topics, groups, client ids, registry keys. */
export function uniqueName (prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

export function testEnv (overrides: Record<string, string> = {}): Record<string, string | undefined> {
  return {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS,
    REDIS_URL: process.env.REDIS_URL,
    KAFKA_CLIENT_ID: uniqueName('gw'),
    REGISTRY_KEY: uniqueName('registry'),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    KAFKA_REQUEST_TIMEOUT_MS: '10000',
    // a loaded CI machine stalls loops for seconds; only the load-shedding test turns shedding on
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...overrides
  }
}

export function testConfig (overrides: Record<string, string> = {}): Config {
  return loadConfig(testEnv(overrides))
}

/** Lines a test logger wrote, parsed; lets tests assert on log output (e.g. that secrets never appear). */
export interface CapturedLogs { lines: () => Array<Record<string, unknown>>, text: () => string }

export function captureLogger (level = 'info'): { logger: Logger, logs: CapturedLogs } {
  const chunks: string[] = []
  const logger = pino({ level, redact: { paths: [], censor: '' } }, { write: (s: string) => { chunks.push(s) } })
  return {
    logger,
    logs: {
      text: () => chunks.join(''),
      lines: () => chunks.join('').split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Record<string, unknown>)
    }
  }
}

/** Builds and starts the app as the server does; closes it when the test ends. */
export async function build (t: Test, overrides: Record<string, string> = {}, logger?: Logger): Promise<FastifyInstance> {
  const app = await buildApp({ config: testConfig(overrides), ...(logger !== undefined ? { logger } : {}) })
  t.teardown(() => app.close())
  await app.ready()
  await app.lifecycle.start()
  return app
}

/** Polls `fn` until it returns a truthy value (returned) or `timeoutMs` passes (throws with `what`). */
export async function waitFor<T> (what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastErr: unknown
  while (Date.now() < deadline) {
    try {
      const v = await fn()
      if (v !== undefined && v !== null && v !== false) return v
    } catch (err) { lastErr = err }
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr instanceof Error ? `: ${lastErr.message}` : ''}`)
}
