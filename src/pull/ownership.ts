/**
 * Which gateway instance serves a request for a pull instance. The owner (the record's `owner`) holds the
 * kafkajs consumer; any other instance forwards to it while its heartbeat lives, and takes the instance
 * over (one script: the old owner must still be dead) once it is gone, rebuilding the consumer from the
 * record: it resumes at the group's committed offsets, so only polled-but-uncommitted records come again.
 */
import { viaRedis } from '../consumers/service-context.js'
import { AppError, kafkaUnavailable } from '../errors.js'
import { announce, localKey, notFound, type PullContext } from './context.js'
import { startLocalConsumer, type LocalConsumer } from './local-consumer.js'
import type { PullInstanceRecord } from './types.js'

export type Route = { local: LocalConsumer, record: PullInstanceRecord } | { forward: string, owner: string }

const redisStep = viaRedis

/** Builds (once, even for concurrent requests) the consumer of `record` on this instance. */
export async function ensureLocal (ctx: PullContext, record: PullInstanceRecord): Promise<LocalConsumer> {
  const key = localKey(record)
  const held = ctx.locals.get(key)
  if (held !== undefined) return held
  let starting = ctx.starting.get(key)
  if (starting === undefined) {
    starting = startLocalConsumer({ kafka: ctx.kafka, logger: ctx.logger, onJoin: () => { announce(ctx, record.groupId) } }, record, record.settings, record.source)
      .then(c => { ctx.locals.set(key, c); return c })
      .catch((err: unknown) => { throw kafkaUnavailable(`Kafka is unavailable: cannot start the consumer of instance "${record.instanceId}"`, err) })
      .finally(() => ctx.starting.delete(key))
    ctx.starting.set(key, starting)
  }
  return await starting
}

/** Closes and forgets this instance's consumer of `key` (when it holds one). */
export async function dropLocal (ctx: PullContext, key: string, groupId: string): Promise<void> {
  const held = ctx.locals.get(key)
  if (held === undefined) return
  ctx.locals.delete(key)
  await held.close()
  announce(ctx, groupId)
}

/** Where the request goes; `forwarded`: it came from another instance and must not be forwarded again. */
export async function route (ctx: PullContext, groupId: string, instanceId: string, forwarded: boolean): Promise<Route> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const record = await redisStep('read the consumer instance', () => ctx.store.get(groupId, instanceId))
    const key = `${groupId}/${instanceId}`
    if (record === undefined) {
      await dropLocal(ctx, key, groupId)
      throw notFound(groupId, instanceId)
    }
    if (record.owner === ctx.clientId) {
      await redisStep('touch the consumer instance', () => ctx.store.touch(record))
      return { local: await ensureLocal(ctx, record), record }
    }
    // moved away while this instance was taken for dead (a Redis outage): the other owner's consumer is the one
    await dropLocal(ctx, key, groupId)
    if (await redisStep('read the owner\'s heartbeat', () => ctx.isAlive(record.owner))) {
      if (!forwarded) return { forward: record.ownerUrl, owner: record.owner }
      throw new AppError(503, 'GW_OWNER_UNAVAILABLE', `consumer instance "${instanceId}" is held by "${record.owner}", which forwarded this request back; retry`, { retryAfterSeconds: 1 })
    }
    const claimed = await redisStep('take over the consumer instance', () => ctx.store.claim(record, ctx.clientId, ctx.advertisedUrl()))
    if (claimed === 'gone') throw notFound(groupId, instanceId)
    if (claimed === 'taken') {
      ctx.log.info({ groupId, instanceId, previousOwner: record.owner }, 'took over a pull consumer instance whose gateway instance is gone')
      const mine = { ...record, owner: ctx.clientId, ownerUrl: ctx.advertisedUrl() }
      return { local: await ensureLocal(ctx, mine), record: mine }
    }
    // 'changed' or 'alive': someone else took it, or the owner came back: read it again
  }
  throw new AppError(503, 'GW_OWNER_UNAVAILABLE', `consumer instance "${instanceId}" is changing hands; retry`, { retryAfterSeconds: 1 })
}
