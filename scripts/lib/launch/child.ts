/**
 * Child processes of the launchers: a command run to completion with its output collected, a long-lived
 * child writing to a log file, a TypeScript module forked with tsx, and stopping any of them.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { killOnExit, neverOrphan } from './cleanup.js'

export interface ExitInfo { code: number | null, signal: NodeJS.Signals | null }

export function hasExited (child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

/** Resolves once `child` has exited (at once when it already has). */
export async function exitOf (child: ChildProcess): Promise<ExitInfo> {
  if (hasExited(child)) return { code: child.exitCode, signal: child.signalCode }
  return await new Promise(resolve => { child.once('exit', (code, signal) => { resolve({ code, signal }) }) })
}

export function describeExit (info: ExitInfo): string {
  return `code ${String(info.code)}, signal ${String(info.signal)}`
}

/** Waits for the exit, SIGKILLing after `killAfterMs` (none: as long as it takes). Undefined when it had already exited. */
export async function exitWithin (child: ChildProcess, killAfterMs?: number): Promise<ExitInfo | undefined> {
  if (hasExited(child)) return undefined
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => { child.kill('SIGKILL') }, killAfterMs)
  try {
    return await exitOf(child)
  } finally {
    clearTimeout(timer)
  }
}

/** Sends `signal` and waits for the exit (see exitWithin). */
export async function stopChild (child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', killAfterMs?: number): Promise<ExitInfo | undefined> {
  if (hasExited(child)) return undefined
  const exited = exitWithin(child, killAfterMs)
  child.kill(signal)
  return await exited
}

export interface CommandResult extends ExitInfo {
  /** stdout and stderr, interleaved as they came. */
  out: string
}

export interface RunCommandOptions {
  cwd?: string
  /** SIGKILL the command after this long (noted at the end of `out`). */
  timeoutMs?: number
}

/** Runs a command to completion (SIGKILLed if this process exits first); rejects when it cannot be spawned. */
export async function runCommand (cmd: string, args: string[], opts: RunCommandOptions = {}): Promise<CommandResult> {
  const child = spawn(cmd, args, { ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}), stdio: ['ignore', 'pipe', 'pipe'] })
  killOnExit(child)
  let out = ''
  child.stdout.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr.on('data', (b: Buffer) => { out += b.toString() })
  const timer = opts.timeoutMs === undefined
    ? undefined
    : setTimeout(() => {
      out += `\n[${cmd}] killed after ${String(opts.timeoutMs)} ms\n`
      child.kill('SIGKILL')
    }, opts.timeoutMs)
  try {
    return await new Promise((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (code, signal) => { resolve({ code, signal, out }) })
    })
  } finally {
    clearTimeout(timer)
  }
}

export interface LoggedChildOptions {
  /** Names the watchdog process (`<name>-watchdog`). */
  name: string
  /** Appended to with the child's stdout and stderr. */
  logFile: string
  /** Removed by the watchdog when this process dies first. */
  dir?: string
  cwd?: string
  /** The child's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv
}

/**
 * Spawns a long-lived child writing to a log file, never outliving this process. A failed spawn shows as
 * a child without a pid (or already exited), which the readiness wait reports.
 */
export function spawnToLog (cmd: string, args: string[], opts: LoggedChildOptions): ChildProcess {
  const fd = openSync(opts.logFile, 'a')
  let child: ChildProcess
  try {
    child = spawn(cmd, args, { detached: false, stdio: ['ignore', fd, fd], ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}), ...(opts.env !== undefined ? { env: opts.env } : {}) })
  } finally {
    closeSync(fd)
  }
  child.on('error', () => undefined)
  neverOrphan(opts.name, child, opts.dir)
  return child
}

/** Forks a TypeScript module (through tsx) with an IPC channel; SIGKILLed if this process exits first. */
export function forkTsx (file: string): ChildProcess {
  const child = fork(file, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  killOnExit(child)
  return child
}
