/**
 * The gateway as a real server process: `node --import tsx src/server.ts` (or the build,
 * `node dist/src/server.js`), never outliving this process (cleanup.ts). `spawnGateway` only spawns;
 * `startGateway` picks a port kept across restarts, waits until the gateway is ready, and can kill and
 * start it again (fault tests, the soak, the benchmarks).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import { describeExit, exitOf, hasExited, stopChild, type ExitInfo } from './child.js'
import { neverOrphan } from './cleanup.js'
import { freePort } from './free-port.js'
import { GATEWAY_NODE_FLAGS } from './node-flags.js'
import { waitReady } from './wait.js'

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const OUTPUT_LIMIT = 512 * 1024

/** How the gateway is run: the TypeScript source through tsx (default) or the compiled build. */
export type GatewayMode = 'tsx' | 'build'

export interface SpawnGatewayOptions {
  /** Gateway settings over this process's environment. */
  env: Record<string, string>
  mode?: GatewayMode
  /** Node flags after GATEWAY_NODE_FLAGS (node-flags.ts), e.g. --cpu-prof. */
  nodeArgs?: string[]
  /** The checkout whose server runs (default: this one). */
  root?: string
  /** stdout and stderr, chunk by chunk, each named; absent: the gateway writes to this process's own. */
  onOutput?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void
  /** What to run instead of node with the server (e.g. `npm start`), from the checkout's root. */
  command?: [string, ...string[]]
  /** In a process group of its own, so it can be signalled as supervisors do (`kill -TERM -<pgid>`). */
  detached?: boolean
}

export interface GatewayChild {
  readonly child: ChildProcess
  readonly exited: Promise<ExitInfo>
}

export function spawnGateway (opts: SpawnGatewayOptions): GatewayChild {
  const root = opts.root ?? ROOT
  const entry = opts.mode === 'build' ? [join(root, 'dist/src/server.js')] : ['--import', 'tsx', join(root, 'src/server.ts')]
  const onOutput = opts.onOutput
  const [file, ...args] = opts.command ?? [process.execPath, ...GATEWAY_NODE_FLAGS, ...(opts.nodeArgs ?? []), ...entry]
  const child = spawn(file, args, {
    cwd: root,
    detached: opts.detached ?? false,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', onOutput === undefined ? 'inherit' : 'pipe', onOutput === undefined ? 'inherit' : 'pipe']
  })
  child.on('error', () => undefined)
  if (onOutput !== undefined) {
    child.stdout?.on('data', (chunk: Buffer) => { onOutput(chunk, 'stdout') })
    child.stderr?.on('data', (chunk: Buffer) => { onOutput(chunk, 'stderr') })
  }
  neverOrphan('gateway', child)
  return { child, exited: exitOf(child) }
}

/** The gateway listens on 127.0.0.1 unless `env` names another HOST. */
export interface StartGatewayOptions extends Omit<SpawnGatewayOptions, 'onOutput'> {
  /** Port on 127.0.0.1, kept across restarts; default: a free one. */
  port?: number
  /** `ready` (default): GET /health/ready answers 200 (Kafka and Redis reachable); `live`: the port answers. */
  waitFor?: 'ready' | 'live'
  readyTimeoutMs?: number
  /** `capture` (default): kept for output(); `inherit`: written to this process's stdout and stderr. */
  output?: 'capture' | 'inherit'
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
  /** Everything the processes printed when captured (stdout and stderr, the last 512 KiB). */
  output (): string
  /** Spawns a process (none may be running) and waits until it is ready; throws with its output if it exits first. */
  start (): Promise<void>
  /** Sends `signal` (default SIGKILL) and waits for the process to exit. */
  kill (signal?: NodeJS.Signals): Promise<ExitInfo | undefined>
  /** SIGTERM (graceful shutdown), SIGKILL after `timeoutMs` (default 15 s). */
  stop (timeoutMs?: number): Promise<ExitInfo | undefined>
}

/** One gateway on a fixed port: the current process, its restarts and what they printed. */
interface GatewayState {
  readonly opts: StartGatewayOptions
  readonly url: string
  readonly env: Record<string, string>
  readonly clientId: string
  current: GatewayChild | undefined
  starts: number
  out: string
}

const running = (s: GatewayState): boolean => s.current !== undefined && !hasExited(s.current.child)

async function httpStatus (url: string, timeoutMs: number): Promise<number | undefined> {
  try {
    const res = await request(url, { method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs, reset: true })
    await res.body.dump()
    return res.statusCode
  } catch {
    return undefined
  }
}

async function launch (s: GatewayState): Promise<void> {
  if (running(s)) throw new Error(`gateway ${s.clientId} is already running`)
  s.starts++
  const capture = (s.opts.output ?? 'capture') === 'capture'
  if (capture) s.out += `\n--- start #${s.starts} (${new Date().toISOString()})\n`
  const append = (chunk: Buffer): void => {
    s.out += chunk.toString('utf8')
    if (s.out.length > OUTPUT_LIMIT * 2) s.out = s.out.slice(-OUTPUT_LIMIT)
  }
  const { mode, nodeArgs, root } = s.opts
  const g = spawnGateway({ env: s.env, mode, nodeArgs, root, ...(capture ? { onOutput: append } : {}) })
  s.current = g
  const readyUrl = `${s.url}${(s.opts.waitFor ?? 'ready') === 'ready' ? '/health/ready' : '/health/live'}`
  try {
    await waitReady({
      what: `gateway ${s.clientId}`,
      gone: () => hasExited(g.child) ? describeExit({ code: g.child.exitCode, signal: g.child.signalCode }) : undefined,
      probe: async () => {
        const status = await httpStatus(readyUrl, 2000)
        return status === 200 || `${readyUrl} answered ${String(status)}`
      },
      timeoutMs: s.opts.readyTimeoutMs ?? 60_000,
      everyMs: 100,
      details: () => s.out.slice(-4000)
    })
  } catch (err) {
    await stopChild(g.child, 'SIGKILL')
    throw err
  }
}

async function signal (s: GatewayState, sig: NodeJS.Signals, killAfterMs?: number): Promise<ExitInfo | undefined> {
  return s.current === undefined ? undefined : await stopChild(s.current.child, sig, killAfterMs)
}

/** Starts the gateway and resolves once it is ready (see StartGatewayOptions.waitFor). */
export async function startGateway (opts: StartGatewayOptions): Promise<GatewayProcess> {
  const port = opts.port ?? await freePort()
  const clientId = opts.env.KAFKA_CLIENT_ID ?? `gw-${port}`
  const s: GatewayState = {
    opts,
    url: `http://127.0.0.1:${port}`,
    env: { HOST: '127.0.0.1', ...opts.env, PORT: String(port), KAFKA_CLIENT_ID: clientId },
    clientId,
    current: undefined,
    starts: 0,
    out: ''
  }
  await launch(s)
  return {
    url: s.url,
    port,
    clientId,
    get starts () { return s.starts },
    get pid () { return running(s) ? s.current?.child.pid : undefined },
    isRunning: () => running(s),
    output: () => s.out,
    start: async () => { await launch(s) },
    kill: async (sig = 'SIGKILL') => await signal(s, sig),
    stop: async (timeoutMs = 15_000) => await signal(s, 'SIGTERM', timeoutMs)
  }
}
