/**
 * webhook.maxBatchWaitMs: whether a batch request of fewer than batchSize records (the end of what
 * kafkajs fetched for its partition) goes now or is left unresolved for the next fetch, which returns
 * it together with whatever arrived meanwhile. Records already in Kafka behind it are fetched at once
 * (no wait); otherwise the partition waits out the rest of maxBatchWaitMs first, counted from when its
 * partial batch was first held, and never longer: then the batch goes as it is.
 */
import type { Batch } from 'kafkajs'
import type { PartitionState } from './state.js'

/** 'send', or how long (ms, maybe 0) to wait before leaving the batch for the next fetch. */
export function partialBatch (maxWaitMs: number | undefined, pstats: PartitionState, batch: Pick<Batch, 'highWatermark'>, first: number, lastOffset: string): 'send' | number {
  if (maxWaitMs === undefined || maxWaitMs <= 0) return 'send'
  // more records are in Kafka already: the next fetch makes the batch full. Only once this batch sent
  // something: a fetch that cannot hold batchSize records (big ones) must still make progress
  if (BigInt(batch.highWatermark) > BigInt(lastOffset) + 1n) return first > 0 ? 0 : 'send'
  const now = performance.now()
  pstats.batchWaitSince ??= now
  const left = pstats.batchWaitSince + maxWaitMs - now
  return left > 0 ? left : 'send'
}
