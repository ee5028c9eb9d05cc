/**
 * The membership guard. Each group generation of this member has its AbortController: a rebalance, a new
 * join or stop aborts it, and so do membership errors (rebalance in progress, unknown member, illegal
 * generation, fenced) met by a heartbeat or a commit — the deliveries in flight see the signal and give
 * up uncommitted, and the batch returns so the consumer rejoins. Transient errors (broker restarting,
 * coordinator moving) never end a generation: nothing renews one but a rejoin.
 */
import type { EachBatchPayload } from 'kafkajs'
import type { Logger } from 'pino'
import { isMembershipError } from '../../kafka/membership.js'
import { commitDue, newCommitState, startCommit, type CommitState } from './commits.js'
import type { RunnerState } from './state.js'

/** Ends the current generation (its deliveries give up) and starts the next one with fresh commit bookkeeping. */
export function newGeneration (state: RunnerState, reason: string): void {
  state.generation.abort(new Error(reason))
  state.generation = new AbortController()
  state.commits = newCommitState()
}

/** A membership error means a rebalance began: end that generation's deliveries now, rejoin once the batch returns. */
export function endGeneration (generation: AbortController, err: unknown): void {
  if (!generation.signal.aborted) generation.abort(err)
}

export function backgroundCommitFailed (log: Logger, generation: AbortController, err: unknown): void {
  if (isMembershipError(err)) endGeneration(generation, err)
  else log.debug({ err }, 'commit failed; retried with the next one')
}

/**
 * The heartbeat the deliverer calls every second or so while a delivery waits (slow or down endpoint):
 * keeps the membership, and commits what the batch already resolved, so a crash during a long outage
 * re-delivers only the record in flight.
 */
export async function guardedHeartbeat (log: Logger, generation: AbortController, cs: CommitState, payload: EachBatchPayload): Promise<void> {
  try {
    await payload.heartbeat()
  } catch (err) {
    // a transient error is retried by the next heartbeat
    if (isMembershipError(err)) endGeneration(generation, err)
    throw err
  }
  try {
    if (cs.inFlight !== undefined) await cs.inFlight
    else if (commitDue(cs)) await startCommit(cs, payload)
  } catch (err) {
    if (!isMembershipError(err)) {
      log.debug({ err }, 'could not commit while a delivery waits; retried on the next heartbeat')
      return
    }
    endGeneration(generation, err)
    throw err
  }
}
