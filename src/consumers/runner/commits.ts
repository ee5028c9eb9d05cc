/**
 * The commit scheduler. Commits run one at a time per consumer generation (shared by its partitions),
 * started without waiting for them once COMMIT_TRIGGER_RECORDS finished records are not yet in a commit,
 * or a second after the last one began (also while a delivery waits on a slow or down endpoint, from the
 * deliverer's heartbeat, generation.ts), and at the end of every batch. Delivery waits for a commit only
 * when a partition finishes a record while COMMIT_BOUND_RECORDS or more finished records are not yet
 * committed (the broker is slow to answer commits): then it waits for the commit under way before it
 * delivers the next one. So a crash re-delivers the records in flight (one per partition) plus what
 * finished since the last commit — normally fewer than COMMIT_TRIGGER_RECORDS plus what one commit round
 * trip lasts, never COMMIT_BOUND_RECORDS + concurrency or more — and a commit round trip never holds
 * delivery up while commits keep up (a bound of 50 did: at a few thousand records per second, every
 * slower commit stalled every partition).
 */
import type { EachBatchPayload } from 'kafkajs'
import type { Logger } from 'pino'

/**
 * The redelivery bound: at most this many finished (delivered or dead-lettered) records are ever
 * uncommitted at once; a partition that reaches it waits for the commit under way. A crash re-delivers
 * fewer than this (plus one per partition in flight and one per partition whose commit was under way).
 */
export const COMMIT_BOUND_RECORDS = 500
export const COMMIT_INTERVAL_MS = 1000
/**
 * A commit starts (in the background) once this many finished records are in none yet, well ahead of
 * the COMMIT_BOUND_RECORDS bound, so deliveries go on while it is under way.
 */
export const COMMIT_TRIGGER_RECORDS = 25

/** The commits of one consumer generation, shared by the partitions it delivers. */
export interface CommitState {
  /** Finished (resolved) records in no commit request yet. */
  unrequested: number
  /** Finished records in the commit under way. */
  requested: number
  inFlight: Promise<void> | undefined
  /** performance.now() when the last commit began. */
  lastStartedAt: number
}

/** What a commit needs of a batch's payload (kafkajs binds it to the generation that fetched the batch). */
export type CommitPayload = Pick<EachBatchPayload, 'commitOffsetsIfNecessary' | 'uncommittedOffsets'>

export function newCommitState (): CommitState {
  return { unrequested: 0, requested: 0, inFlight: undefined, lastStartedAt: performance.now() }
}

/** Commits every resolved offset, or joins the commit under way. */
export function startCommit (cs: CommitState, payload: CommitPayload): Promise<void> {
  if (cs.inFlight !== undefined) return cs.inFlight
  cs.requested = cs.unrequested
  cs.unrequested = 0
  cs.lastStartedAt = performance.now()
  const p = payload.commitOffsetsIfNecessary(payload.uncommittedOffsets()).then(() => {
    cs.requested = 0
    cs.inFlight = undefined
  }, (err: unknown) => {
    cs.unrequested += cs.requested
    cs.requested = 0
    cs.inFlight = undefined
    throw err
  })
  cs.inFlight = p
  return p
}

/** A background commit should start: none under way, and enough finished records or enough time since the last. */
export function commitDue (cs: CommitState): boolean {
  return cs.inFlight === undefined && cs.unrequested > 0 &&
    (cs.unrequested >= COMMIT_TRIGGER_RECORDS || performance.now() - cs.lastStartedAt >= COMMIT_INTERVAL_MS)
}

/** The redelivery bound: no further record while COMMIT_BOUND_RECORDS finished ones are uncommitted. */
export function commitBoundReached (cs: CommitState): boolean {
  return cs.unrequested + cs.requested >= COMMIT_BOUND_RECORDS
}

/** What was delivered is committed before the batch ends, so a stop or restart never re-delivers it. */
export async function commitAtBatchEnd (cs: CommitState, payload: CommitPayload, log: Logger): Promise<void> {
  try {
    if (cs.inFlight !== undefined) await cs.inFlight.catch(() => {})
    if (cs.unrequested > 0) await startCommit(cs, payload)
  } catch (err) {
    log.debug({ err }, 'could not commit at the end of a batch (rebalance?); those records may be delivered again')
  }
}
