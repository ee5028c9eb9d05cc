/**
 * The commit scheduler. Commits run one at a time per consumer generation (shared by its partitions),
 * started without waiting for them once COMMIT_TRIGGER_RECORDS finished records are not yet in a commit
 * and COMMIT_MIN_GAP_MS passed since the last one began (at once from COMMIT_EAGER_RECORDS), or a second
 * after the last one began (also while a delivery waits on a slow or down endpoint, from the deliverer's
 * heartbeat, generation.ts), and at the end of every batch. A batch that ends normally does not wait for
 * its commit (kafkajs would not fetch again until it is answered: a commit round trip per fetch round);
 * one that ends because of a stop, a rebalance or a seek does, and a stop waits for the commits still
 * under way before the consumer leaves. Delivery waits for a commit only when a partition finishes a
 * record while COMMIT_BOUND_RECORDS or more finished records are not yet committed (the broker is slow to
 * answer commits): then it waits for the commit under way before it delivers the next one. So a crash
 * re-delivers the records in flight (one per partition) plus what finished since the last commit —
 * normally fewer than COMMIT_TRIGGER_RECORDS or COMMIT_MIN_GAP_MS of deliveries (at most
 * COMMIT_EAGER_RECORDS) plus what one commit round trip lasts, never COMMIT_BOUND_RECORDS + concurrency
 * or more — and a commit round trip never holds delivery up while commits keep up (a bound of 50 did: at
 * a few thousand records per second, every slower commit stalled every partition).
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
/**
 * ...but no sooner than this after the last one began: at thousands of records per second a commit per
 * 25 records cost the broker (and the gateway) more CPU than the deliveries themselves.
 */
export const COMMIT_MIN_GAP_MS = 50
/** From this many finished records in no commit yet a commit starts whatever the gap (half the bound). */
export const COMMIT_EAGER_RECORDS = COMMIT_BOUND_RECORDS / 2

/** The commits of one consumer generation, shared by the partitions it delivers. */
export interface CommitState {
  /** Finished (resolved) records in no commit request yet. */
  unrequested: number
  /** Finished records in the commit under way. */
  requested: number
  inFlight: Promise<void> | undefined
  /** performance.now() when the last commit began. */
  lastStartedAt: number
  /** The batch ends' background commits (commitInBackground): a stop waits for them. */
  draining: Promise<void> | undefined
  /** A batch ended while `draining` was under way. */
  drainAgain: boolean
}

/** What a commit needs of a batch's payload (kafkajs binds it to the generation that fetched the batch). */
export type CommitPayload = Pick<EachBatchPayload, 'commitOffsetsIfNecessary' | 'uncommittedOffsets'>

export function newCommitState (): CommitState {
  return { unrequested: 0, requested: 0, inFlight: undefined, lastStartedAt: performance.now(), draining: undefined, drainAgain: false }
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
  if (cs.inFlight !== undefined || cs.unrequested === 0) return false
  if (cs.unrequested >= COMMIT_EAGER_RECORDS) return true
  const since = performance.now() - cs.lastStartedAt
  return since >= COMMIT_INTERVAL_MS || (cs.unrequested >= COMMIT_TRIGGER_RECORDS && since >= COMMIT_MIN_GAP_MS)
}

/** The redelivery bound: no further record while COMMIT_BOUND_RECORDS finished ones are uncommitted. */
export function commitBoundReached (cs: CommitState): boolean {
  return cs.unrequested + cs.requested >= COMMIT_BOUND_RECORDS
}

/** Commits every finished record, after the commit under way (which holds only some of them). */
async function commitAfterInFlight (cs: CommitState, payload: CommitPayload): Promise<void> {
  if (cs.inFlight !== undefined) await cs.inFlight.catch(() => {})
  if (cs.unrequested > 0) await startCommit(cs, payload)
}

/** A batch ending because of a stop, rebalance or seek: what was delivered is committed before it returns. */
export async function commitAtBatchEnd (cs: CommitState, payload: CommitPayload, log: Logger): Promise<void> {
  try {
    await commitAfterInFlight(cs, payload)
  } catch (err) {
    log.debug({ err }, 'could not commit at the end of a batch (rebalance?); those records may be delivered again')
  }
}

/**
 * A batch that ended normally: its records are committed in the background, so the next fetch does not
 * wait for a commit round trip. A batch ending while one is under way has it run once more after (its
 * records may have missed that commit); a failure is left to the next commit (`failed` sees it: a
 * membership error ends the generation).
 */
export function commitInBackground (cs: CommitState, payload: CommitPayload, failed: (err: unknown) => void): void {
  if (cs.draining !== undefined) {
    cs.drainAgain = true
    return
  }
  cs.drainAgain = false
  let ok = true
  cs.draining = commitAfterInFlight(cs, payload).catch((err: unknown) => {
    ok = false
    failed(err)
  }).finally(() => {
    cs.draining = undefined
    if (ok && cs.drainAgain) commitInBackground(cs, payload, failed)
  })
}
