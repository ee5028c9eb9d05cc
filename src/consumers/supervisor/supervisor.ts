/**
 * The supervisor: every instance runs one. On start and every heartbeat (REGISTRY_HEARTBEAT_MS) it ticks
 * (tick.ts): holds this instance's clientId (takeover.ts), restores lost Redis state, sweeps dead
 * instances, reconciles its runners with the definitions (reconcile.ts, runners.ts), measures lag
 * (lag-refresh.ts) and rewrites this instance's registry entry and status hash (status.ts), so every
 * instance's GET /consumer-groups shows every instance. Its timers are in timers.ts; its state is one
 * object (state.ts) handed to those functions.
 *
 * While Redis is down nothing of this happens, and running consumers keep delivering; the first tick
 * after Redis returns rewrites everything. Ticks never overlap; `reconcileNow()` runs one at once
 * (after a POST or DELETE on this instance).
 */
import type { TopicPart } from '../../registry/registry.js'
import type { DeliveryEvent } from '../../webhooks/types.js'
import { stopAllRunners } from './runners.js'
import { createSupervisorState, markRedisDown, type SupervisorDeps, type SupervisorState } from './state.js'
import { lagSamples, statuses, type GroupStatus, type LagSample } from './status.js'
import { runTick, scheduleTicks, startHeartbeat, stopHeartbeat } from './timers.js'

export type { SupervisorDeps } from './state.js'
export type { GroupStatus, LagSample } from './status.js'

export interface Supervisor {
  /** Takes the heartbeat (throws DuplicateClientIdError when the clientId is live elsewhere), then ticks. */
  start (): Promise<void>
  /** Runs a tick now (after any in progress); resolves when it is done. */
  reconcileNow (): Promise<void>
  /** Status of every group this instance runs (or was asked to stop). */
  statuses (): Record<string, GroupStatus>
  /** Routes a deliverer event to the runner of its group (retries, last status and error per partition). */
  onDeliveryEvent (e: DeliveryEvent): void
  /** The last measured lag of every partition this instance holds. */
  lag (): LagSample[]
  /** Wall-clock ms of the last successful heartbeat refresh (it ages while Redis is unreachable or the clientId is taken); undefined before start and after close. */
  heartbeatAt (): number | undefined
  /** Adds consumers outside the supervisor (pull consumers) to the registry entry each tick rewrites. */
  addPartsSource (source: () => TopicPart[]): void
  /** Stops ticking and every consumer, then deletes this instance's heartbeat, registry field and status. */
  close (): Promise<void>
}

export function createSupervisor (deps: SupervisorDeps): Supervisor {
  const state = createSupervisorState(deps)
  return {
    start: () => startSupervisor(state),
    reconcileNow: () => runTick(state),
    statuses: () => statuses(state),
    onDeliveryEvent: e => { state.slots.get(e.groupId)?.runner.observe(e) },
    lag: () => lagSamples(state),
    heartbeatAt: () => (state.closed ? undefined : deps.liveness.lastRefreshedAt),
    addPartsSource: source => { state.partSources.push(source) },
    close: () => closeSupervisor(state)
  }
}

async function startSupervisor (state: SupervisorState): Promise<void> {
  if (state.started) return
  state.started = true
  const { redis, keys, clientId, liveness } = state.deps
  try {
    await liveness.acquire()
    state.owner = true
    // a fresh start resumes everything: stop requests addressed to a previous run are void
    await redis.del(keys.stopped(clientId))
  } catch (err) {
    if (err instanceof Error && err.name === 'DuplicateClientIdError') throw err
    markRedisDown(state, err, 'start')
  }
  await runTick(state)
  scheduleTicks(state)
  startHeartbeat(state)
}

async function closeSupervisor (state: SupervisorState): Promise<void> {
  if (state.closed) return
  state.closed = true
  clearTimeout(state.timer)
  await state.chain
  await stopAllRunners(state, 'shutdown')
  stopHeartbeat(state)
  if (!state.started) return
  try {
    if (state.owner && !(await state.deps.liveness.release())) state.log.warn('heartbeat key held by another token at shutdown: left alone')
  } catch (err) {
    state.log.warn({ err }, 'could not remove this instance from the registry at shutdown (Redis unavailable); its heartbeat expires on its own')
  }
}
