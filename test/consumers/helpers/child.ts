/** A real gateway server process (scripts/lib/launch/gateway.ts) for SIGKILL and exit-code tests, SIGKILLed when the test ends. */
import type { Test } from 'tap'
import { stopChild, type ExitInfo } from '../../../scripts/lib/launch/child.js'
import { spawnGateway as spawnGatewayChild, type SpawnGatewayOptions } from '../../../scripts/lib/launch/gateway.js'
import type { ChildProcess } from 'node:child_process'

export interface GatewayProcess {
  child: ChildProcess
  exited: Promise<ExitInfo>
  /** stdout, then stderr. */
  output: () => string
}

export type SpawnOptions = Pick<SpawnGatewayOptions, 'command' | 'detached'>

/** Spawns the gateway (a port of its own choosing, LOG_LEVEL info) without waiting for it; `detached`: teardown kills its whole group. */
export function spawnGateway (t: Test, env: Record<string, string>, { command, detached = false }: SpawnOptions = {}): GatewayProcess {
  // kept apart: a stderr chunk landing between two chunks of one stdout line would break that JSON log line
  const out = { stdout: '', stderr: '' }
  const { child, exited } = spawnGatewayChild({
    env: { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', KAFKA_REQUEST_TIMEOUT_MS: '10000', ...env },
    onOutput: (chunk, stream) => { out[stream] += chunk.toString('utf8') },
    ...(command !== undefined ? { command } : {}),
    detached
  })
  t.teardown(async () => {
    if (detached && child.pid !== undefined) {
      try { process.kill(-child.pid, 'SIGKILL') } catch { /* the group is gone */ }
    }
    await stopChild(child, 'SIGKILL')
  })
  return { child, exited, output: () => out.stdout + out.stderr }
}
