/** Starting and stopping this instance's runners, and what their joins tell the registry. */
import type { TopicPart } from '../../registry/registry.js'
import type { JoinInfo } from '../runner/group-events.js'
import type { Declaration } from '../store.js'
import { markRedisDown, type SupervisorState } from './state.js'
import { writeStatus } from './status.js'

export function startRunner (state: SupervisorState, groupId: string, declaration: Declaration): void {
  const { deps, log } = state
  const id = state.nextId++
  const runner = state.makeRunner(groupId, declaration, {
    kafka: deps.kafka,
    deliverer: deps.deliverer,
    logger: deps.logger,
    onJoin: (gid, parts, join) => { onRunnerJoin(state, id, gid, parts, join) },
    onFailed: (gid, err) => { log.warn({ groupId: gid, err }, 'consumer failed; restarting it on the next heartbeat') }
  })
  state.slots.set(groupId, { runner, id })
  state.stoppedByRequest.delete(groupId)
  state.loadAnnounced = false
  log.info({ groupId, hash: declaration.hash, version: declaration.version }, 'starting consumer')
  void runner.start()
}

export async function stopRunner (state: SupervisorState, groupId: string, why: string, graceMs = state.deps.stopGraceMs ?? 0): Promise<void> {
  const slot = state.slots.get(groupId)
  if (slot === undefined) return
  state.slots.delete(groupId)
  state.log.info({ groupId, why }, 'stopping consumer')
  await slot.runner.stop(graceMs)
  if (why === 'stopped by request') state.stoppedByRequest.set(groupId, slot.runner.status())
}

export async function stopAllRunners (state: SupervisorState, why: string, graceMs?: number): Promise<void> {
  await Promise.all([...state.slots.keys()].map(g => stopRunner(state, g, why, graceMs)))
}

/** Every runner's current registry parts, and those of the other part sources: this instance's registry entry. */
export function allParts (state: SupervisorState): TopicPart[] {
  return [...state.slots.values()].flatMap(s => s.runner.parts()).concat(state.partSources.flatMap(source => source()))
}

/** Logs CONSUMERS_LOAD_COMPLETE once every runner started since the last announcement joined its group. */
export function announceIfLoaded (state: SupervisorState): void {
  if (state.loadAnnounced || state.slots.size === 0) return
  const runners = [...state.slots.values()].map(s => s.runner)
  if (!runners.every(r => r.joined)) return
  state.loadAnnounced = true
  state.log.info({
    event: 'CONSUMERS_LOAD_COMPLETE',
    consumers: runners.map(r => ({
      groupId: r.groupId,
      topics: r.declaration.definition.topics.map(t => t.name),
      fromBeginning: r.declaration.definition.fromBeginning,
      isPartitionAssign: r.declaration.definition.isPartitionAssign
    }))
  }, 'all consumers of this instance joined their groups')
}

function onRunnerJoin (state: SupervisorState, slotId: number, groupId: string, parts: TopicPart[], join: JoinInfo): void {
  state.log.info({ event: 'JOIN_GROUP', ...join }, 'consumer joined its group')
  if (state.slots.get(groupId)?.id !== slotId) return
  state.deps.registry.setGroup(state.deps.clientId, groupId, parts)
    .then(() => writeStatus(state))
    // the next tick rewrites the whole entry
    .catch((err: unknown) => { markRedisDown(state, err, 'registry update after join') })
  announceIfLoaded(state)
}
