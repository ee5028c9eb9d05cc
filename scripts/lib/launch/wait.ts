/** Waiting on conditions, never on time alone: a polled predicate, and a started process becoming ready. */
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Polls `fn` until it returns a value other than undefined, null or false (returned), or throws after
 * `timeoutMs` naming `what` and the last error `fn` threw.
 */
export async function waitUntil<T> (what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v !== undefined && v !== null && v !== false) return v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`)
    }
    await sleep(everyMs)
  }
}

export interface ReadyCheck {
  /** What is started, for the errors: "kafka", "redis-server on port 6390", "gateway gw-1". */
  what: string
  /** Why the process can no longer become ready (it exited), or undefined while it runs. */
  gone: () => string | undefined
  /** One readiness probe: true when ready, else what it saw (kept for the timeout's error). */
  probe: () => Promise<true | string>
  timeoutMs: number
  everyMs: number
  /** Appended to the errors: the process's last log lines. */
  details: () => string
}

/** Probes until ready; throws when the process exits first or `timeoutMs` passes. */
export async function waitReady (check: ReadyCheck): Promise<void> {
  const deadline = Date.now() + check.timeoutMs
  let last = 'no answer yet'
  for (;;) {
    const gone = check.gone()
    if (gone !== undefined) throw new Error(`${check.what} exited during startup (${gone}):\n${check.details()}`)
    const seen = await check.probe()
    if (seen === true) return
    last = seen
    if (Date.now() > deadline) throw new Error(`${check.what} not ready after ${check.timeoutMs} ms (${last}):\n${check.details()}`)
    await sleep(check.everyMs)
  }
}
