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
