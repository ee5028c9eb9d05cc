/**
 * A private redis-server on 127.0.0.1 for tests and local runs (never the machine's own 6379):
 * non-persistent, restartable on the same port, never outliving this process (cleanup.ts).
 */
import { spawnSync, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { describeExit, hasExited, spawnToLog, stopChild } from './child.js'
import { keepDirOnExit, removeDirOnExit } from './cleanup.js'
import { freePort } from './free-port.js'
import { fileTail } from './text.js'
import { waitReady } from './wait.js'

const READY_TIMEOUT_MS = 15_000
const STOP_TIMEOUT_MS = 5_000

export interface StartRedisOptions {
  /** Port on 127.0.0.1; 0 or absent: a free port. */
  port?: number
}

export interface LocalRedis {
  /** redis://127.0.0.1:<port>/0 */
  readonly url: string
  readonly port: number
  /** SIGTERM (SIGKILL after 5 s), wait for exit, remove the working dir. Idempotent. */
  stop (): Promise<void>
  /** Start again on the same port (after stop() or kill()); resolves once PING answers. */
  start (): Promise<void>
  /** SIGKILL and wait for the process to be gone (a crash, for tests). */
  kill (): Promise<void>
}

function findRedisServer (): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(d => d !== ''), '/usr/bin', '/usr/sbin', '/usr/local/bin']
  for (const d of dirs) {
    const p = join(d, 'redis-server')
    try {
      accessSync(p, constants.X_OK)
      return p
    } catch { /* next */ }
  }
  return undefined
}

/** Path of redis-server: PATH, then /usr/bin, /usr/sbin; installs it with apt-get when root. */
export function ensureRedisServer (): string {
  const found = findRedisServer()
  if (found !== undefined) return found
  if (process.platform === 'linux' && process.getuid?.() === 0) {
    const r = spawnSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq --no-install-recommends redis-server'], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    })
    if (r.status !== 0) throw new Error(`apt-get install redis-server failed (exit ${String(r.status)})`)
    const installed = findRedisServer()
    if (installed !== undefined) return installed
  }
  throw new Error('redis-server not found on PATH or in /usr/bin. Install it (Debian/Ubuntu: ' +
    'sudo apt-get install -y redis-server; macOS: brew install redis) and try again.')
}

/** One PING over a raw socket; true when the answer is +PONG. */
async function ping (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const s = connect({ host: '127.0.0.1', port })
    let buf = ''
    const done = (ok: boolean): void => { s.destroy(); resolve(ok) }
    s.setTimeout(1000, () => { done(false) })
    s.once('error', () => { done(false) })
    s.once('connect', () => { s.write('PING\r\n') })
    s.on('data', (b: Buffer) => {
      buf += b.toString()
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'))
    })
  })
}

/** One redis-server on a fixed port: the running process and its working dir, while there is one. */
interface RedisState {
  readonly bin: string
  readonly port: number
  child: ChildProcess | undefined
  dir: string | undefined
}

async function halt (r: RedisState, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const c = r.child
  r.child = undefined
  if (c !== undefined) await stopChild(c, signal, STOP_TIMEOUT_MS)
  if (r.dir !== undefined) {
    rmSync(r.dir, { recursive: true, force: true })
    keepDirOnExit(r.dir)
    r.dir = undefined
  }
}

async function launch (r: RedisState): Promise<void> {
  if (r.child !== undefined) throw new Error(`redis on port ${r.port} is already running`)
  const dir = mkdtempSync(join(tmpdir(), 'local-redis-'))
  r.dir = dir
  removeDirOnExit(dir)
  const logFile = join(dir, 'redis.log')
  const c = spawnToLog(r.bin, ['--port', String(r.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--daemonize', 'no', '--dir', dir, '--protected-mode', 'no'], { name: 'local-redis', logFile, dir })
  r.child = c
  try {
    await waitReady({
      what: `redis-server on port ${r.port}`,
      gone: () => c.pid === undefined || hasExited(c) ? describeExit({ code: c.exitCode, signal: c.signalCode }) : undefined,
      probe: async () => (await ping(r.port)) || 'no PONG',
      timeoutMs: READY_TIMEOUT_MS,
      everyMs: 50,
      details: () => fileTail(logFile, 20)
    })
  } catch (err) {
    await halt(r, 'SIGKILL')
    throw err
  }
}

/** Starts a private, non-persistent redis-server and waits until it answers PING. */
export async function startRedis (opts: StartRedisOptions = {}): Promise<LocalRedis> {
  const r: RedisState = {
    bin: ensureRedisServer(),
    port: opts.port !== undefined && opts.port > 0 ? opts.port : await freePort(),
    child: undefined,
    dir: undefined
  }
  await launch(r)
  return {
    url: `redis://127.0.0.1:${r.port}/0`,
    port: r.port,
    stop: async () => { await halt(r, 'SIGTERM') },
    kill: async () => { await halt(r, 'SIGKILL') },
    start: async () => { await launch(r) }
  }
}
