/**
 * A long-lived child serving HTTP from a scratch folder of its own (the Strimzi bridge, kafka-hooks):
 * ready once a GET answers as it should, stopped with SIGTERM (SIGKILL after a bound) and its folder removed.
 */
import type { ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { describeExit, hasExited, stopChild } from './child.js'
import { keepDirOnExit } from './cleanup.js'
import { fileTail } from './text.js'
import { waitReady } from './wait.js'

/** SIGTERM, SIGKILL after `killAfterMs`, then the scratch folder goes. */
export function stopAndRemove (child: ChildProcess, runDir: string, killAfterMs: number): () => Promise<void> {
  return async () => {
    await stopChild(child, 'SIGTERM', killAfterMs)
    rmSync(runDir, { recursive: true, force: true })
    keepDirOnExit(runDir)
  }
}

export interface HttpReady {
  /** Names the process in errors. */
  what: string
  /** The GET that says it is ready, and which statuses do. */
  url: string
  ready: (status: number) => boolean
  timeoutMs: number
  /** Its log, whose tail goes into the errors. */
  logFile: string
}

/** Probes `url` every 250 ms until it is ready; on failure stops the child (`stop`) and throws. */
export async function waitHttpReady (child: ChildProcess, o: HttpReady, stop: () => Promise<void>): Promise<void> {
  try {
    await waitReady({
      what: o.what,
      gone: () => hasExited(child) ? describeExit({ code: child.exitCode, signal: child.signalCode }) : undefined,
      probe: async () => {
        try {
          const res = await fetch(o.url, { signal: AbortSignal.timeout(2000) })
          return o.ready(res.status) || `GET ${o.url} answered ${res.status}`
        } catch (err) {
          return err instanceof Error ? err.message : String(err)
        }
      },
      timeoutMs: o.timeoutMs,
      everyMs: 250,
      details: () => fileTail(o.logFile)
    })
  } catch (err) {
    await stop()
    throw err
  }
}
