import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Whether the module at `moduleUrl` (its import.meta.url) is the script Node was started with. */
export function isEntry (moduleUrl: string): boolean {
  const arg = process.argv[1]
  if (arg === undefined) return false
  try {
    return realpathSync(arg) === realpathSync(fileURLToPath(moduleUrl))
  } catch {
    return false
  }
}

/** Runs `main` with the command-line arguments when the module is the entry script; a failure prints its message and exits 1. */
export function runIfEntry (moduleUrl: string, main: (argv: string[]) => Promise<void>): void {
  if (!isEntry(moduleUrl)) return
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  })
}

/** The value after `name` in `args` (undefined when the flag is absent); throws when the value is missing. */
export function flag (args: string[], name: string): string | undefined {
  const i = args.indexOf(name)
  if (i === -1) return undefined
  const v = args[i + 1]
  if (v === undefined) throw new Error(`${name} needs a value`)
  return v
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
