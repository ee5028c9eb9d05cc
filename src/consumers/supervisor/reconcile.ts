/**
 * Reconciling the runners with the definitions: starts the groups that apply here (no clientIds, or
 * clientIds includes this clientId), stops removed or stopped ones, restarts changed ones (a different
 * declaration hash) and failed ones.
 */
import { emptyStatus } from '../runner/status.js'
import { declarationFor, type Declaration, type GroupRecord } from '../store.js'
import { startRunner, stopRunner } from './runners.js'
import type { SupervisorState } from './state.js'

export async function reconcile (state: SupervisorState, records: Map<string, GroupRecord>, stopMarkers: Record<string, string>): Promise<void> {
  const { slots, stoppedByRequest } = state
  const desired = desiredGroups(state, records, stopMarkers)
  const stops: Array<Promise<void>> = []
  const restarts: Array<[string, Declaration]> = []
  for (const [groupId, slot] of slots) {
    const want = desired.get(groupId)
    if (want === undefined) {
      stops.push(stopRunner(state, groupId, Object.hasOwn(stopMarkers, groupId) ? 'stopped by request' : 'definition removed'))
    } else if (want.hash !== slot.runner.declaration.hash) {
      stops.push(stopRunner(state, groupId, 'definition changed'))
      restarts.push([groupId, want])
    } else if (slot.runner.state === 'failed') {
      stops.push(stopRunner(state, groupId, 'restarting after a failure'))
      restarts.push([groupId, want])
    }
  }
  await Promise.all(stops)
  for (const [groupId, declaration] of restarts) startRunner(state, groupId, declaration)
  for (const [groupId, declaration] of desired) {
    if (!slots.has(groupId)) startRunner(state, groupId, declaration)
  }
  for (const groupId of stoppedByRequest.keys()) {
    if (!records.has(groupId) || !Object.hasOwn(stopMarkers, groupId)) stoppedByRequest.delete(groupId)
  }
  // markers of groups that no longer exist are of no use
  const stale = Object.keys(stopMarkers).filter(g => !records.has(g))
  if (stale.length > 0) await state.deps.redis.hdel(state.deps.keys.stopped(state.deps.clientId), ...stale)
}

/** The declarations that should run here; a group stopped by request is shown as stopped instead. */
function desiredGroups (state: SupervisorState, records: Map<string, GroupRecord>, stopMarkers: Record<string, string>): Map<string, Declaration> {
  const desired = new Map<string, Declaration>()
  for (const [groupId, record] of records) {
    const declaration = declarationFor(record, state.deps.clientId)
    if (declaration === undefined) continue
    if (Object.hasOwn(stopMarkers, groupId)) {
      if (!state.stoppedByRequest.has(groupId) && !state.slots.has(groupId)) state.stoppedByRequest.set(groupId, emptyStatus('stopped'))
      continue
    }
    desired.set(groupId, declaration)
  }
  return desired
}
