/**
 * No child of a launcher outlives the Node process that started it, and no scratch folder stays behind:
 * children are SIGKILLed and folders removed on process 'exit', and a tiny `sh` watchdog per long-lived
 * child kills it (and removes its folder) when the parent dies without running exit handlers (SIGKILL,
 * an unhandled signal).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'

const liveChildren = new Set<ChildProcess>()
const dirsToRemove = new Set<string>()
let installed = false

function install (): void {
  if (installed) return
  installed = true
  process.on('exit', () => {
    for (const c of liveChildren) {
      try { c.kill('SIGKILL') } catch { /* already gone */ }
    }
    for (const d of dirsToRemove) {
      try { rmSync(d, { recursive: true, force: true }) } catch { /* best effort */ }
    }
  })
}

/** SIGKILLs `child` at exit unless it has exited by then. */
export function killOnExit (child: ChildProcess): void {
  install()
  liveChildren.add(child)
  child.once('exit', () => { liveChildren.delete(child) })
}

/** Removes `dir` at exit unless `keepDirOnExit` is called first. */
export function removeDirOnExit (dir: string): void {
  install()
  dirsToRemove.add(dir)
}

export function keepDirOnExit (dir: string): void {
  dirsToRemove.delete(dir)
}

const WATCHDOG = 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; ' +
  'if ! kill -0 "$1" 2>/dev/null; then kill -9 "$2" 2>/dev/null; if [ -n "$3" ]; then sleep 1; rm -rf "$3"; fi; fi'

/**
 * Kills `child` when this Node process disappears without running its 'exit' handlers, and removes
 * `dir` then. Exits by itself when the child exits.
 */
function startWatchdog (name: string, child: ChildProcess, dir?: string): void {
  if (child.pid === undefined) return
  spawn('sh', ['-c', WATCHDOG, `${name}-watchdog`, String(process.pid), String(child.pid), dir ?? ''], {
    detached: false,
    stdio: 'ignore'
  }).unref()
}

/** killOnExit and startWatchdog: what every long-lived child gets. */
export function neverOrphan (name: string, child: ChildProcess, dir?: string): void {
  killOnExit(child)
  startWatchdog(name, child, dir)
}
