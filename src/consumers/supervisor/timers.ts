/**
 * The supervisor's timers: ticks every heartbeat (never overlapping: each runs after the one before), and
 * the heartbeat refresh on its own timer, so a slow tick (consumers stopping, a slow Redis) never lets the
 * heartbeat key expire; ticks refresh it too and act on a lost clientId (takeover.ts).
 */
import type { SupervisorState } from './state.js'
import { tick } from './tick.js'

/** Runs a tick after the one in progress; the returned promise rejects with its error, the chain does not. */
export function runTick (state: SupervisorState): Promise<void> {
  const fn = (): Promise<void> => tick(state)
  const run = state.chain.then(fn, fn)
  state.chain = run.catch((err: unknown) => { state.log.error({ err }, 'supervisor tick failed') })
  return run
}

export function scheduleTicks (state: SupervisorState): void {
  if (state.closed) return
  state.timer = setTimeout(() => {
    void runTick(state).finally(() => { scheduleTicks(state) })
  }, state.deps.heartbeatMs)
  state.timer.unref()
}

export function startHeartbeat (state: SupervisorState): void {
  const { heartbeatMs, liveness } = state.deps
  state.beat = setInterval(() => {
    // runs on after close() began, until the release: consumers finishing deliveries must not let it expire
    if (state.beat === undefined || !state.owner) return
    // a tick refreshed it lately: no second refresh this period (gaps stay under 1.5 heartbeats, the key lives 3)
    const last = liveness.lastRefreshedAt
    if (last !== undefined && Date.now() - last < heartbeatMs / 2) return
    liveness.refresh()
      .catch(() => { /* the next tick reports Redis trouble */ })
  }, heartbeatMs)
  state.beat.unref()
}

export function stopHeartbeat (state: SupervisorState): void {
  clearInterval(state.beat)
  state.beat = undefined
}
