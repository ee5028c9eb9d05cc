/**
 * The deliverer's events of this group (routed here by the supervisor): retries, last status and last error,
 * per partition and over all. Delivered and dead-lettered records are counted by the batch loop itself.
 */
import type { DeliveryEvent } from '../../webhooks/types.js'
import { partitionOf, touch, type RunnerState } from './state.js'

export function observeDelivery (state: RunnerState, e: DeliveryEvent): void {
  // only attempts and retries change what the status keeps
  if ((e.kind !== 'attempt' && e.kind !== 'retry-scheduled') || e.groupId !== state.groupId || !state.topics.includes(e.topic)) return
  const s = partitionOf(state, e.topic, e.partition)
  if (e.kind === 'attempt') {
    s.lastStatus = e.status ?? null
    state.lastStatus = s.lastStatus
    if (e.error !== undefined) {
      s.lastError = `offset ${e.offset ?? '?'}, attempt ${e.attempt ?? '?'}: ${e.error}`
      state.lastError = `${e.topic}/${e.partition}@${e.offset ?? '?'} attempt ${e.attempt ?? '?'}: ${e.error}`
    }
  } else {
    s.retried++
    state.retried++
  }
  touch(state)
}
