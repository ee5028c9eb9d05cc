/**
 * One supervisor tick: holds the clientId (takeover.ts), checks `<key>:epoch` (when Redis lost its data it
 * writes back the definitions it last read; it checks again after reading them), sweeps dead instances
 * (registry/sweep.ts), reconciles with the definitions and this instance's stop markers (reconcile.ts),
 * then rewrites this instance's registry entry (from what its consumers last joined with) and its status
 * hash. The lag measurement runs alongside (lag-refresh.ts), and the status waits for it. Any Redis
 * failure leaves the consumers running; the first tick after Redis returns rewrites everything.
 */
import { randomBytes } from 'node:crypto'
import { sweepDeadInstances } from '../../registry/sweep.js'
import { refreshLag } from './lag-refresh.js'
import { reconcile } from './reconcile.js'
import { allParts, announceIfLoaded } from './runners.js'
import { markRedisDown, type SupervisorState } from './state.js'
import { writeStatus } from './status.js'
import { holdClientId } from './takeover.js'

export async function tick (state: SupervisorState): Promise<void> {
  if (state.closed) return
  const lag = refreshLag(state)
  try {
    await reconcileTick(state, lag)
  } finally {
    await lag
  }
}

async function reconcileTick (state: SupervisorState, lag: Promise<void>): Promise<void> {
  if (!(await holdClientId(state))) return
  const { redis, keys, clientId, store, registry } = state.deps
  try {
    await checkEpoch(state)
    const swept = await sweepDeadInstances(redis, keys, clientId)
    if (swept.length > 0) state.log.info({ swept }, 'removed the registry entries of dead instances')
    const [records, stopMarkers] = await Promise.all([store.list(), redis.hgetall(keys.stopped(clientId))])
    // Redis may have come back empty since checkEpoch (a restart of a few hundred ms, commands queued
    // across it): definitions read from it then would stop every runner and replace the snapshot that
    // the next tick writes back
    if (await redis.get(keys.epoch) !== state.epoch) {
      state.log.warn('Redis lost the gateway state during a tick: nothing reconciled, the next tick restores it')
      return
    }
    state.snapshot = records
    await reconcile(state, records, stopMarkers)
    await registry.replaceAll(clientId, allParts(state))
    await lag
    await writeStatus(state)
    if (state.redisDown) state.log.info('Redis available again: registry entry and status rewritten')
    state.redisDown = false
  } catch (err) {
    markRedisDown(state, err, 'reconcile')
  }
  announceIfLoaded(state)
}

/** A new (or missing) epoch means Redis lost the gateway state: the definitions last read are written back. */
async function checkEpoch (state: SupervisorState): Promise<void> {
  const { redis, keys, store } = state.deps
  let current = await redis.get(keys.epoch)
  if (current === null) {
    await redis.set(keys.epoch, randomBytes(8).toString('hex'), 'NX')
    current = await redis.get(keys.epoch)
  }
  if (state.epoch !== undefined && current !== state.epoch) {
    const restored = await store.restore(state.snapshot.values())
    state.log.warn({ restored }, 'Redis lost the gateway state (new epoch): wrote back the definitions and this instance\'s registry entry')
  }
  state.epoch = current ?? undefined
}
