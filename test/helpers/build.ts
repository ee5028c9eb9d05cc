import type { FastifyInstance } from 'fastify'
import { pino, type Logger } from 'pino'
import type { Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config/env.js'
import { uniqueName } from './names.js'

export { uniqueName }
/** Polls a condition until it holds (the launchers' own wait): waitFor(what, fn, timeoutMs = 20000, everyMs = 50). */
export { waitUntil as waitFor } from '../../scripts/lib/launch/wait.js'

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
