/**
 * A private redis-server on 127.0.0.1 for tests and local runs (never the machine's own 6379).
 *
 * As a CLI:
 *   npx tsx scripts/local-redis.ts start [--port N]
 * prints `REDIS_URL=redis://127.0.0.1:N/0` once it answers PING, and stops on SIGINT/SIGTERM.
 *
 * No redis-server outlives the Node process that started it: it is SIGKILLed on process 'exit',
 * and an `sh` watchdog kills it when the parent dies without running exit handlers.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { accessSync, closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { runIfEntry } from './lib/cli.js'
import { keepDirOnExit, killOnExit, removeDirOnExit, runUntilSignal } from './lib/exit-cleanup.js'
import { setTimeout as sleep } from 'node:timers/promises'

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


/** Starts a private, non-persistent redis-server and waits until it answers PING. */
export async function startRedis (opts: StartRedisOptions = {}): Promise<LocalRedis> {
  const bin = ensureRedisServer()
  const port = opts.port !== undefined && opts.port > 0 ? opts.port : await freePort()

  let child: ChildProcess | undefined
  let dir: string | undefined

  const launch = async (): Promise<void> => {
    if (child !== undefined) throw new Error(`redis on port ${port} is already running`)
    const d = mkdtempSync(join(tmpdir(), 'local-redis-'))
    dir = d
    removeDirOnExit(d)
    const logFile = join(d, 'redis.log')
    const fd = openSync(logFile, 'a')
    let c: ChildProcess
    try {
      c = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--daemonize', 'no', '--dir', d, '--protected-mode', 'no'], { detached: false, stdio: ['ignore', fd, fd] })
    } finally {
      closeSync(fd)
    }
    c.on('error', () => undefined) // surfaces below as a process without a pid
    child = c
    killOnExit(c)
    startWatchdog(c, d)
    const deadline = Date.now() + READY_TIMEOUT_MS
    for (;;) {
      if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) {
        await halt('SIGKILL')
        throw new Error(`redis-server exited during startup on port ${port}:\n${tailOf(logFile)}`)
      }
      if (await ping(port)) return
      if (Date.now() > deadline) {
        await halt('SIGKILL')
        throw new Error(`redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS} ms:\n${tailOf(logFile)}`)
      }
      await sleep(50)
    }
  }

  const halt = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    const c = child
    child = undefined
    if (c !== undefined) await terminate(c, signal)
    if (dir !== undefined) {
      rmSync(dir, { recursive: true, force: true })
      keepDirOnExit(dir)
      dir = undefined
    }
  }

  await launch()
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    stop: async () => { await halt('SIGTERM') },
    kill: async () => { await halt('SIGKILL') },
    start: launch
  }
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

async function terminate (child: ChildProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill(signal)
  const timer = setTimeout(() => { child.kill('SIGKILL') }, STOP_TIMEOUT_MS)
  try {
    await exited
  } finally {
    clearTimeout(timer)
  }
}

function startWatchdog (child: ChildProcess, dir: string): void {
  if (child.pid === undefined) return
  const script = 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; ' +
    'if ! kill -0 "$1" 2>/dev/null; then kill -9 "$2" 2>/dev/null; rm -rf "$3"; fi'
  spawn('sh', ['-c', script, 'local-redis-watchdog', String(process.pid), String(child.pid), dir], {
    detached: false,
    stdio: 'ignore'
  }).unref()
}

async function freePort (): Promise<number> {
  const s = createServer()
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  const addr = s.address()
  await new Promise<void>(resolve => { s.close(() => { resolve() }) })
  if (addr === null || typeof addr === 'string') throw new Error('unexpected server address')
  return addr.port
}

function tailOf (file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-20).join('\n')
  } catch {
    return '(no log)'
  }
}

// ---------------------------------------------------------------------------------------------
// CLI


async function main (argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv
  if (cmd !== 'start') {
    console.error('usage: local-redis.ts start [--port N]')
    process.exitCode = 2
    return
  }
  const i = rest.indexOf('--port')
  const port = i === -1 ? 0 : Number(rest[i + 1])
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be an integer 0-65535')
  const redis = await startRedis({ port })
  console.log(`REDIS_URL=${redis.url}`)
  runUntilSignal('redis', () => redis.stop())
}

runIfEntry(import.meta.url, main)
