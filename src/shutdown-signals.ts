import closeWithGrace from 'close-with-grace'
import type { Logger } from 'pino'

export interface ShutdownSignalsOptions {
  /** The whole shutdown's bound: past it the process exits 1. */
  timeoutMs: number
  logger: Logger
  /** Runs once, on the first signal or a fatal error; `err` set after a crash. */
  shutdown: (cause: { signal?: string, err?: Error }) => Promise<void>
}

/**
 * Signals that start (or cut) the graceful shutdown.
 *
 * SIGTERM is what supervisors send, often more than once: systemd's KillMode=control-group and
 * `kill -TERM -<pgid>` reach both `npm start` and the node process, and npm forwards its own copy.
 * So repeated SIGTERMs never cut the grace short. A repeated SIGINT (an interactive Ctrl-C) or any
 * other fatal signal still exits at once, code 1 — close-with-grace's behaviour, kept for those.
 */
export function installShutdownSignals ({ timeoutMs, logger, shutdown }: ShutdownSignalsOptions): void {
  let signal: string | undefined
  let closing = false
  const grace = closeWithGrace({ delay: timeoutMs, logger, skip: ['SIGTERM'] }, async ({ signal: other, err }) => {
    closing = true
    signal ??= other
    await shutdown({ ...(signal !== undefined ? { signal } : {}), ...(err !== undefined ? { err } : {}) })
  })
  const onSigterm = (): void => {
    if (closing) {
      logger.warn({ signal: 'SIGTERM' }, 'SIGTERM again: the shutdown under way goes on (a second SIGINT forces an exit)')
      return
    }
    signal = 'SIGTERM'
    void grace.close()
  }
  process.on('SIGTERM', onSigterm)
}
