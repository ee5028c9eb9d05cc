import type { ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'

/**
 * Children and scratch folders to remove if this Node process exits without stopping them, so a test
 * or bench that dies never leaves a broker, Redis or Java tool running. Shared by every launcher.
 */
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

/** For CLIs: keeps running until SIGINT/SIGTERM, then runs `stop` once and exits. */
export function runUntilSignal (what: string, stop: () => Promise<void>): void {
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    console.error(`${signal}: stopping ${what}`)
    stop().then(() => { process.exit(0) }, (err: unknown) => {
      console.error(err)
      process.exit(1)
    })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // Keep the event loop alive until a signal arrives.
  setInterval(() => undefined, 1 << 30)
}
