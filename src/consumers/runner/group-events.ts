/**
 * What the kafkajs consumer's group events do to the runner: a join (after every rebalance) records this
 * member's assignment and registry parts and tells the supervisor; a rebalance ends the generation; a
 * crash is either restarted by kafkajs or the end of this runner (the supervisor starts a new one later).
 */
import type { Consumer, ConsumerCrashEvent } from 'kafkajs'
import { newGeneration } from './generation.js'
import { markAssigned, touch, type RunnerState } from './state.js'
import { errorText } from './status.js'

export interface JoinInfo {
  groupId: string
  memberId: string
  leaderId: string
  isLeader: boolean
  groupProtocol: string
  memberAssignment: Record<string, number[]>
}

export function onGroupJoin (state: RunnerState, payload: JoinInfo): void {
  newGeneration(state, 'new group generation')
  const memberAssignment: Record<string, number[]> = {}
  for (const [topic, list] of Object.entries(payload.memberAssignment)) {
    if (list.length > 0) memberAssignment[topic] = [...list].sort((a, b) => a - b)
  }
  state.assignment = memberAssignment
  markAssigned(state)
  state.parts = Object.entries(memberAssignment).map(([topic, partitions]) => ({
    topic,
    groupId: state.groupId,
    memberId: payload.memberId,
    leaderId: payload.leaderId,
    isLeader: payload.isLeader,
    groupProtocol: payload.groupProtocol,
    partitions
  }))
  state.joined = true
  state.running = true
  if (state.phase === 'starting') state.phase = 'running'
  touch(state)
  state.deps.onJoin(state.groupId, state.parts, { ...payload, memberAssignment })
}

export function onRebalancing (state: RunnerState): void {
  newGeneration(state, 'group is rebalancing')
  state.running = false
  touch(state)
}

export function onCrash (state: RunnerState, consumer: Consumer, payload: ConsumerCrashEvent['payload']): void {
  state.running = false
  state.lastError = errorText(payload.error)
  touch(state)
  if (state.phase === 'stopping' || state.phase === 'stopped') {
    // kafkajs schedules its own restart after a retriable crash: cancel it (stop clears the timer)
    if (payload.restart) setTimeout(() => { void consumer.stop().catch(() => {}) }, 0)
    return
  }
  state.log.error({ event: 'ERROR', err: payload.error, restart: payload.restart }, payload.restart ? 'consumer crashed; kafkajs restarts it' : 'consumer crashed')
  if (!payload.restart) {
    state.phase = 'failed'
    state.deps.onFailed(state.groupId, payload.error)
  }
}
