/** A real gateway server process (scripts/lib/launch/gateway.ts) for SIGKILL and exit-code tests, SIGKILLed when the test ends. */
import type { Test } from 'tap'
import { stopChild, type ExitInfo } from '../../../scripts/lib/launch/child.js'
import { spawnGateway as spawnGatewayChild } from '../../../scripts/lib/launch/gateway.js'
import type { ChildProcess } from 'node:child_process'

export interface GatewayProcess {
  child: ChildProcess
  exited: Promise<ExitInfo>
  output: () => string
}

/** Spawns the gateway (a port of its own choosing, LOG_LEVEL info) without waiting for it. */
export function spawnGateway (t: Test, env: Record<string, string>): GatewayProcess {
  const out = { text: '' }
  const { child, exited } = spawnGatewayChild({
    env: { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', KAFKA_REQUEST_TIMEOUT_MS: '10000', ...env },
    onOutput: chunk => { out.text += chunk.toString('utf8') }
  })
  t.teardown(async () => { await stopChild(child, 'SIGKILL') })
  return { child, exited, output: () => out.text }
}
