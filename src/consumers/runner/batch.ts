/**
 * The batch loop (kafkajs eachBatch): hands every record, in partition order, to the Deliverer and
 * resolves a record's offset only after delivery finished (delivered or dead-lettered). An aborted
 * delivery (stop, rebalance, shutdown) leaves the rest of the batch unresolved, so it is fetched again —
 * by this member or by whoever owns the partition next. With webhook.batchSize > 1, consecutive records
 * of a batch go in one request; a partial one may wait for more (maxBatchWaitMs, batch-wait.ts). Tombstones (null values) are delivered like any record.
 */
import type { EachBatchPayload, KafkaMessage } from 'kafkajs'
import { isMembershipError } from '../../kafka/membership.js'
import { sleep } from '../../util/async.js'
import { toConsumedRecord } from '../../webhooks/envelope.js'
import type { DeliveryOutcome } from '../../webhooks/types.js'
import { partialBatch } from './batch-wait.js'
import { commitAtBatchEnd, commitBoundReached, commitDue, commitInBackground, startCommit } from './commits.js'
import { backgroundCommitFailed, endGeneration, guardedHeartbeat } from './generation.js'
import { partitionOf, touch, type PartitionState, type RunnerState } from './state.js'
import { errorText } from './status.js'

/** kafkajs heartbeats only every heartbeatInterval anyway: asking more often than this costs awaits for nothing. */
const HEARTBEAT_CHECK_MS = 100

export async function eachBatch (state: RunnerState, payload: EachBatchPayload): Promise<void> {
  const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload
  const { deps, log } = state
  // this batch belongs to the generation that fetched it, whatever comes after
  const current = state.generation
  const signal = current.signal
  const cs = state.commits
  const commitFailed = (err: unknown): void => { backgroundCommitFailed(log, current, err) }
  const fetchedAt = performance.now()
  const pstats = partitionOf(state, batch.topic, batch.partition)
  let resolved = false
  let heartbeatCheckedAt = 0
  try {
    const messages = batch.messages
    const size = state.def.webhook.batchSize ?? 1
    const ctx = { groupId: state.groupId, webhook: state.def.webhook, signal, heartbeat: () => guardedHeartbeat(log, current, cs, payload), fetchedAt }
    for (let i = 0; i < messages.length; i += size) {
      if (!isRunning() || isStale() || signal.aborted) return
      if (state.finishing !== undefined) {
        await state.finishing
        return
      }
      const message = messages[i] as KafkaMessage
      const chunk = size === 1 ? undefined : messages.slice(i, i + size)
      const n = chunk?.length ?? 1
      const lastOffset = chunk === undefined ? message.offset : (chunk[n - 1] as KafkaMessage).offset
      if (chunk !== undefined && n < size) {
        const wait = partialBatch(state.def.webhook.maxBatchWaitMs, pstats, batch, i, lastOffset)
        if (wait !== 'send') {
          // left unresolved: the next fetch returns these records again, with what arrived meanwhile
          if (wait > 0) {
            // a heartbeat first: the wait must not cost the membership (a failure is handled in there)
            await ctx.heartbeat().catch(() => {})
            await sleep(wait, signal)
          }
          return
        }
      }
      const where = n === 1 ? message.offset : `${message.offset}-${lastOffset}`
      let outcome
      pstats.inFlight += n
      state.inFlight += n
      try {
        outcome = chunk === undefined
          ? await deps.deliverer.deliver(toConsumedRecord(batch.topic, batch.partition, message), ctx)
          : await deps.deliverer.deliverBatch(chunk.map(m => toConsumedRecord(batch.topic, batch.partition, m)), ctx)
      } catch (err) {
        deliveryThrew(state, pstats, err, where)
        await sleep(1000, signal)
        return
      } finally {
        pstats.inFlight -= n
        state.inFlight -= n
        if (state.inFlight === 0) state.onIdle?.()
      }
      if (outcome.outcome === 'aborted') return
      pstats.batchWaitSince = undefined
      countFinished(state, pstats, outcome, n, where)
      if (!signal.aborted) pstats.next = BigInt(lastOffset) + 1n
      touch(state)
      resolveOffset(lastOffset)
      resolved = true
      cs.unrequested += n
      if (commitDue(cs)) startCommit(cs, payload).catch(commitFailed)
      try {
        while (commitBoundReached(cs)) await startCommit(cs, payload)
        const t = performance.now()
        if (t - heartbeatCheckedAt >= HEARTBEAT_CHECK_MS) {
          heartbeatCheckedAt = t
          await heartbeat()
        }
      } catch (err) {
        // the record is resolved; return so kafkajs refetches from there. A transient error must not end
        // the generation: with no rebalance coming, the consumer would return every batch at once for good
        if (isMembershipError(err)) endGeneration(current, err)
        else log.debug({ err }, 'commit or heartbeat failed; the batch is fetched again')
        return
      }
    }
  } finally {
    // a batch cut short (stop, rebalance, seek) commits before kafkajs goes on; one that ran out does not
    // wait (kafkajs fetches again only once every batch of the last fetch returned)
    if (resolved) {
      if (signal.aborted || state.finishing !== undefined || !isRunning() || isStale()) await commitAtBatchEnd(cs, payload, log)
      else commitInBackground(cs, payload, commitFailed)
    }
  }
}

/** A delivered or dead-lettered request of `n` records, counted. */
function countFinished (state: RunnerState, pstats: PartitionState, outcome: Exclude<DeliveryOutcome, { outcome: 'aborted' }>, n: number, where: string): void {
  if (outcome.outcome === 'delivered') {
    state.delivered += n
    pstats.delivered += n
  } else {
    state.deadLettered += n
    pstats.deadLettered += n
    pstats.lastError = `dead-lettered offset ${where}: ${outcome.error}`
    state.lastError = `dead-lettered ${pstats.topic}/${pstats.partition}@${where}: ${outcome.error}`
  }
}

/** A delivery that threw is not resolved: the batch ends (after a pause) and is fetched again from there. */
function deliveryThrew (state: RunnerState, pstats: PartitionState, err: unknown, where: string): void {
  state.errors++
  state.lastError = `delivery failed: ${errorText(err)}`
  pstats.lastError = state.lastError
  touch(state)
  state.log.error({ event: 'ERROR', err, topic: pstats.topic, partition: pstats.partition, offset: where }, 'delivery failed; the record will be retried')
}
