/**
 * A real gateway server process (`node --import tsx src/server.ts`) that can be SIGKILLed and started
 * again on the same port, for fault tests and the soak (test/reliability, scripts/soak.ts). It does not
 * depend on tap: the caller stops it (`stop()`); a process 'exit' hook and an `sh` watchdog make sure no
 * gateway outlives the process that started it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import { freePorts } from '../../scripts/local-kafka.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const OUTPUT_LIMIT = 512 * 1024

export interface ExitInfo { code: number | null, signal: NodeJS.Signals | null }

export interface GatewayProcessOptions {
  /** Gateway settings (KAFKA_BROKERS, REDIS_URL, REGISTRY_KEY, KAFKA_CLIENT_ID...), over quiet test defaults. */
  env: Record<string, string>
  /** Port on 127.0.0.1, kept across restarts; default: a free one. */
  port?: number
  /** `ready` (default): GET /health/ready answers 200 (Kafka and Redis reachable); `live`: the port answers. */
  waitFor?: 'ready' | 'live'
  readyTimeoutMs?: number
  /** The checkout whose src/server.ts runs (default: this one). */
  root?: string
}

export interface GatewayProcess {
  /** http://127.0.0.1:<port>, the same across restarts. */
  readonly url: string
  readonly port: number
  readonly clientId: string
  /** How many times a process was spawned. */
  readonly starts: number
  /** The current child's pid (undefined when none runs). */
  readonly pid: number | undefined
  isRunning (): boolean
  /** Everything the processes printed (stdout and stderr, the last 512 KiB). */
  output (): string
  /** Spawns a process (none may be running) and waits until it is ready; throws with its output if it exits first. */
  start (): Promise<void>
  /** Sends `signal` (default SIGKILL) and waits for the process to exit. */
  kill (signal?: NodeJS.Signals): Promise<ExitInfo | undefined>
  /** SIGTERM (graceful shutdown), SIGKILL after `timeoutMs` (default 15 s). */
  stop (timeoutMs?: number): Promise<ExitInfo | undefined>
}

const live = new Set<ChildProcess>()
let exitHook = false

function installExitHook (): void {
  if (exitHook) return
  exitHook = true
  process.on('exit', () => {
    for (const c of live) {
      try { c.kill('SIGKILL') } catch { /* gone */ }
    }
  })
}

/** Kills `child` when this process disappears without running its exit handlers (SIGKILL of the test runner). */
function watchdog (child: ChildProcess): void {
  if (child.pid === undefined) return
  const script = 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; ' +
    'if ! kill -0 "$1" 2>/dev/null; then kill -9 "$2" 2>/dev/null; fi'
  spawn('sh', ['-c', script, 'gateway-watchdog', String(process.pid), String(child.pid)], { stdio: 'ignore' }).unref()
}

async function exitOf (child: ChildProcess): Promise<ExitInfo> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode }
  return await new Promise(resolve => { child.once('exit', (code, signal) => { resolve({ code, signal }) }) })
}

async function httpStatus (url: string, timeoutMs: number): Promise<number | undefined> {
  try {
    const res = await request(url, { method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs, reset: true })
    await res.body.dump()
    return res.statusCode
  } catch {
    return undefined
  }
}

export async function startGatewayProcess (opts: GatewayProcessOptions): Promise<GatewayProcess> {
  installExitHook()
  const port = opts.port ?? (await freePorts(1))[0]
  if (port === undefined) throw new Error('no free port')
  const url = `http://127.0.0.1:${port}`
  const clientId = opts.env.KAFKA_CLIENT_ID ?? `gw-${port}`
  const readyPath = (opts.waitFor ?? 'ready') === 'ready' ? '/health/ready' : '/health/live'
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000
  let out = ''
  let child: ChildProcess | undefined
  let starts = 0

  const append = (chunk: Buffer): void => {
    out += chunk.toString('utf8')
    if (out.length > OUTPUT_LIMIT * 2) out = out.slice(-OUTPUT_LIMIT)
  }

  async function start (): Promise<void> {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) throw new Error(`gateway ${clientId} is already running`)
    starts++
    out += `\n--- start #${starts} (${new Date().toISOString()})\n`
    const c = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: opts.root ?? ROOT,
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        MAX_EVENT_LOOP_DELAY_MS: '0',
        KAFKA_REQUEST_TIMEOUT_MS: '10000',
        ...opts.env,
        PORT: String(port),
        KAFKA_CLIENT_ID: clientId
      },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    child = c
    live.add(c)
    c.once('exit', () => { live.delete(c) })
    c.on('error', () => undefined)
    c.stdout?.on('data', append)
    c.stderr?.on('data', append)
    watchdog(c)
    const exited = exitOf(c)
    const deadline = Date.now() + readyTimeoutMs
    for (;;) {
      const status = await Promise.race([httpStatus(`${url}${readyPath}`, 2000), exited.then(() => 'exited' as const)])
      if (status === 'exited') {
        const info = await exited
        throw new Error(`gateway ${clientId} exited during startup (code ${String(info.code)}, signal ${String(info.signal)}):\n${out.slice(-4000)}`)
      }
      if (status === 200) return
      if (Date.now() > deadline) {
        c.kill('SIGKILL')
        await exited
        throw new Error(`gateway ${clientId} not ready on ${url}${readyPath} within ${readyTimeoutMs} ms (last status ${String(status)}):\n${out.slice(-4000)}`)
      }
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }

  async function signalAndWait (signal: NodeJS.Signals, killAfterMs?: number): Promise<ExitInfo | undefined> {
    const c = child
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return undefined
    const exited = exitOf(c)
    c.kill(signal)
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => { c.kill('SIGKILL') }, killAfterMs)
    try {
      return await exited
    } finally {
      clearTimeout(timer)
    }
  }

  await start()
  return {
    url,
    port,
    clientId,
    get starts () { return starts },
    get pid () { return child?.exitCode === null && child.signalCode === null ? child.pid : undefined },
    isRunning: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    output: () => out,
    start,
    kill: (signal = 'SIGKILL') => signalAndWait(signal),
    stop: (timeoutMs = 15_000) => signalAndWait('SIGTERM', timeoutMs)
  }
}
