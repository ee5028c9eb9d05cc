/** A real gateway server process (`node --import tsx src/server.ts`), for SIGKILL and exit-code tests. */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

export interface GatewayProcess {
  child: ChildProcess
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  output: () => string
}

export interface SpawnOptions {
  /** What to run instead of `node --import tsx src/server.ts` (e.g. `npm start`), from the checkout's root. */
  command?: [string, ...string[]]
  /** In its own process group, so a test can signal the whole group as supervisors do; teardown kills the group. */
  detached?: boolean
}

export function spawnGateway (t: Test, env: Record<string, string>, { command, detached = false }: SpawnOptions = {}): GatewayProcess {
  const [file, ...args] = command ?? [process.execPath, '--import', 'tsx', 'src/server.ts']
  const child = spawn(file, args, {
    cwd: ROOT,
    detached,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      KAFKA_REQUEST_TIMEOUT_MS: '10000',
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout?.on('data', (c: Buffer) => { out += c.toString('utf8') })
  child.stderr?.on('data', (c: Buffer) => { out += c.toString('utf8') })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
    child.on('exit', (code, signal) => resolve({ code, signal }))
  })
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      if (detached && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      else child.kill('SIGKILL')
      await exited
    }
  })
  return { child, exited, output: () => out }
}
