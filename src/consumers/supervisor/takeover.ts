/**
 * Holding this instance's clientId. Each tick refreshes the heartbeat key (registry/liveness.ts): if
 * another instance took the clientId meanwhile, every consumer here stops and an ERROR is logged on each
 * tick until the key is ours again; a key that had expired (Redis unreachable for a while) is taken back.
 */
import { stopAllRunners } from './runners.js'
import { markRedisDown, type SupervisorState } from './state.js'

/** Refreshes the heartbeat; true when this instance holds its clientId and may reconcile. */
export async function holdClientId (state: SupervisorState): Promise<boolean> {
  const { clientId, liveness } = state.deps
  let refreshed
  try {
    refreshed = await liveness.refresh()
  } catch (err) {
    markRedisDown(state, err, 'heartbeat')
    return false
  }
  if (refreshed === 'taken') {
    if (state.owner || state.slots.size > 0) {
      state.log.error({ event: 'ERROR', clientId }, `another instance took KAFKA_CLIENT_ID "${clientId}" (its heartbeat key holds another token): stopping this instance's consumers`)
    }
    state.owner = false
    await stopAllRunners(state, 'clientId taken by another instance', 0)
    return false
  }
  if (refreshed === 'reacquired' && state.owner) {
    state.log.warn('this instance\'s heartbeat had expired (Redis unreachable for a while?): registered again')
  }
  state.owner = true
  return true
}
