/**
 * What the supervisor reports: the status of every group this instance runs (or was asked to stop) —
 * written to this instance's status hash so every instance's GET /consumer-groups shows it — and the
 * lag per partition the metrics read.
 */
import type { RunnerStatus } from '../runner/status.js'
import type { SupervisorState } from './state.js'

export interface GroupStatus extends RunnerStatus {
  /** Stopped by DELETE /consumers on this instance (until it restarts or the group is POSTed again). */
  stoppedByRequest?: boolean
}

/** One partition's lag, as the metrics read it. */
export interface LagSample {
  group: string
  topic: string
  partition: number
  lag: number
}

export function statuses (state: SupervisorState): Record<string, GroupStatus> {
  const out: Record<string, GroupStatus> = {}
  for (const [groupId, status] of state.stoppedByRequest) out[groupId] = { ...status, state: 'stopped', running: false, stoppedByRequest: true }
  for (const [groupId, slot] of state.slots) out[groupId] = slot.runner.status()
  return out
}

/** Rewrites this instance's status hash (it lives as long as the heartbeat). */
export async function writeStatus (state: SupervisorState): Promise<void> {
  const { redis, keys, clientId, liveness } = state.deps
  const key = keys.status(clientId)
  const m = redis.multi().del(key)
  for (const [groupId, status] of Object.entries(statuses(state))) m.hset(key, groupId, JSON.stringify(status))
  m.pexpire(key, liveness.ttlMs)
  const results = await m.exec()
  const failed = results?.find(([err]) => err !== null)
  if (failed !== undefined) throw failed[0]
}

/** The last measured lag of every partition this instance holds. */
export function lagSamples (state: SupervisorState): LagSample[] {
  const out: LagSample[] = []
  for (const [group, slot] of state.slots) {
    for (const p of slot.runner.status().byPartition) {
      if (p.assigned && p.lag !== null) out.push({ group, topic: p.topic, partition: p.partition, lag: p.lag })
    }
  }
  return out
}
