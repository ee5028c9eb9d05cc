/**
 * The webhook delivery engine: one record (or, with `batchSize` > 1, consecutive records of one partition)
 * → one signed POST, retried until the webhook answers 2xx, the records are dead-lettered, or the consumer
 * tells us to stop (ctx.signal).
 *
 * - The consumer runtime calls `deliver` (or `deliverBatch`) for the messages of a partition in order and
 *   commits the offset only on 'delivered' or 'dead-lettered'; 'aborted' means "do not commit".
 * - The pieces, each taking the deliverer's state (state.ts) or the part of it it needs: the attempt/retry
 *   loop (loop.ts), request building and signing (request.ts), the webhook's checked settings
 *   (prepared-webhook.ts), HTTP dispatch (dispatch.ts), what an attempt came to (response.ts, scrub.ts),
 *   the dead-letter hand-off, and the deliveries in progress with their heartbeats (active.ts).
 */
import type { Deliverer } from '../types.js'
import { stopAll } from './active.js'
import { closeAgent } from './dispatch.js'
import { deliverRecords } from './loop.js'
import { createState, type DelivererDeps, type DelivererState } from './state.js'

export type { DelivererDeps } from './state.js'

export function createDeliverer (deps: DelivererDeps): Deliverer {
  const state = createState(deps)
  return {
    deliver: (record, ctx) => deliverRecords(state, [record], false, ctx),
    deliverBatch: (records, ctx) => deliverRecords(state, records, true, ctx),
    close: () => closeDeliverer(state)
  }
}

/** Stops every delivery (their in-flight requests are aborted), then closes the connections. */
function closeDeliverer (state: DelivererState): Promise<void> {
  state.closing ??= (async () => {
    stopAll(state.active, 'deliverer closed')
    await closeAgent(state.agent)
  })()
  return state.closing
}
