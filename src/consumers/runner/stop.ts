/** Stopping a runner: a grace for the deliveries in flight, then the generation ends and the consumer leaves. */
import { withTimeout } from '../../util/async.js'
import { disconnect } from './consumer.js'
import { markAssigned, touch, type RunnerState } from './state.js'

/** The longest a stop waits for the batch ends' background commits (one may be re-run after another). */
const DRAIN_WAIT_MS = 10_000

/**
 * Starts no further record, gives deliveries in flight up to `graceMs` to finish (their offsets are then
 * committed), aborts what is still running (uncommitted: delivered again later), leaves the group, disconnects.
 */
export function stopRunner (state: RunnerState, graceMs: number): Promise<void> {
  state.stopping ??= (async () => {
    if (state.phase !== 'failed') state.phase = 'stopping'
    touch(state)
    await finishInFlight(state, graceMs)
    state.running = false
    state.generation.abort(new Error('consumer stopping'))
    touch(state)
    // the batch ends' background commits go out before the consumer leaves the group
    const drainUntil = Date.now() + DRAIN_WAIT_MS
    while (state.commits.draining !== undefined && Date.now() < drainUntil) {
      await withTimeout(state.commits.draining, drainUntil - Date.now(), 'commit did not settle').catch(() => {})
    }
    await disconnect(state)
    // a join in progress may still be settling: wait for start to finish, then make sure
    if (state.starting !== undefined) {
      await withTimeout(state.starting, 15_000, 'start did not settle').catch(() => {})
      await disconnect(state)
    }
    state.phase = 'stopped'
    state.assignment = {}
    markAssigned(state)
    state.parts = []
    touch(state)
  })()
  return state.stopping
}

/** Sets `state.finishing` (batches start no further record) and waits until nothing is in flight, or `graceMs`. */
async function finishInFlight (state: RunnerState, graceMs: number): Promise<void> {
  if (!(graceMs > 0 && state.inFlight > 0 && !state.generation.signal.aborted)) {
    state.finishing = Promise.resolve()
    return
  }
  state.log.info({ inFlight: state.inFlight, graceMs }, 'stopping: deliveries in flight may finish first')
  let release: () => void = () => {}
  state.finishing = new Promise<void>(resolve => { release = resolve })
  state.onIdle = release
  const timer = setTimeout(release, graceMs)
  await state.finishing
  clearTimeout(timer)
  state.onIdle = undefined
  if (state.inFlight > 0) state.log.warn({ inFlight: state.inFlight }, 'stopping: deliveries still in flight after the grace are aborted (delivered again later)')
}
