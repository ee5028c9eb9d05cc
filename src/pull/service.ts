/**
 * Pull consumers over HTTP (issue 13): instances live in Redis (store.ts) so that any gateway instance
 * serves any request — the owner directly, the others by forwarding (ownership.ts) or by taking the
 * instance over when its owner is gone. What each request does to the owner's kafkajs consumer is here.
 */
import { AppError, fieldError, kafkaUnavailable } from '../errors.js'
import type { TopicPart } from '../registry/registry.js'
import type { ConsumedRecord } from '../webhooks/types.js'
import { announce, createPullContext, localKey, notFound, pullParts, type PullContext, type PullServiceDeps } from './context.js'
import type { LocalConsumer } from './local-consumer.js'
import { committedOffsets, edgeOffsets, timestampOffsets, type PartitionOffset } from './offsets.js'
import { dropLocal, ensureLocal, route, type Route } from './ownership.js'
import { newInstanceId, settingsOf, type CreateInput } from './settings.js'
import type { PullInstanceRecord, PullSource, TopicPartitionRef } from './types.js'
import { checkPartitions, checkTopics, sourceTopics } from './checks.js'

export type { PullServiceDeps } from './context.js'
export type { Route } from './ownership.js'

export interface PollOptions { timeoutMs?: number | undefined, maxRecords?: number | undefined, maxBytes?: number | undefined }
export type SeekTarget = TopicPartitionRef & ({ offset: string } | { timestamp: number })

export interface PullService {
  /** This gateway instance's clientId (forwarded requests name it). */
  readonly clientId: string
  create (groupId: string, input: CreateInput): Promise<PullInstanceRecord>
  /** Where a request for the instance is served: here (the consumer, built when needed) or forwarded to its owner. */
  route (groupId: string, instanceId: string, forwarded: boolean): Promise<Route>
  setSource (groupId: string, instanceId: string, source: PullSource): Promise<PullSource>
  source (groupId: string, instanceId: string): Promise<{ source: PullSource, assigned: TopicPartitionRef[] }>
  poll (groupId: string, instanceId: string, opts: PollOptions): Promise<{ records: ConsumedRecord[], record: PullInstanceRecord }>
  /** Confluent v1's read of one topic: subscribes the instance to it first when it is not (assigned instances: 409). */
  pollTopic (groupId: string, instanceId: string, topic: string, opts: PollOptions): Promise<{ records: ConsumedRecord[], record: PullInstanceRecord }>
  /** Commits `offsets` (each the next offset to read), or, when absent, the offset after every polled record. */
  commit (groupId: string, instanceId: string, offsets: PartitionOffset[] | undefined): Promise<PartitionOffset[]>
  committed (groupId: string, instanceId: string): Promise<PartitionOffset[]>
  seek (groupId: string, instanceId: string, targets: SeekTarget[]): Promise<PartitionOffset[]>
  seekEdge (groupId: string, instanceId: string, partitions: TopicPartitionRef[] | undefined, edge: 'beginning' | 'end'): Promise<PartitionOffset[]>
  remove (groupId: string, instanceId: string): Promise<void>
  /** The group's instances as stored (GET /consumer-groups/{id}). */
  instances (groupId: string): Promise<PullInstanceRecord[]>
  /** Every pull consumer's registry parts on this instance (the supervisor's registry entry includes them). */
  parts (): TopicPart[]
  start (): void
  close (): Promise<void>
}

async function held (ctx: PullContext, groupId: string, instanceId: string): Promise<{ local: LocalConsumer, record: PullInstanceRecord }> {
  const r = await route(ctx, groupId, instanceId, true)
  if ('forward' in r) throw new AppError(503, 'GW_OWNER_UNAVAILABLE', `consumer instance "${instanceId}" moved to "${r.owner}"; retry`, { retryAfterSeconds: 1 })
  return r
}

async function viaKafka<T> (what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof AppError) throw err
    throw kafkaUnavailable(`Kafka is unavailable: cannot ${what}`, err)
  }
}

async function create (ctx: PullContext, groupId: string, input: CreateInput): Promise<PullInstanceRecord> {
  const settings = settingsOf(input)
  if (await ctx.webhookGroupDefined(groupId)) {
    throw new AppError(409, 'GW_CONFLICT', `group "${groupId}" is a webhook consumer group: a pull instance would take its partitions`, { details: [{ field: 'params/groupId', rule: 'notWebhookGroup', message: 'defined with POST /consumer-groups' }] })
  }
  const record: PullInstanceRecord = { groupId, instanceId: input.name ?? input.id ?? newInstanceId(), owner: ctx.clientId, ownerUrl: ctx.advertisedUrl(), settings, source: { kind: 'none' }, createdAt: new Date().toISOString() }
  if (!(await ctx.store.create(record))) {
    throw new AppError(409, 'GW_CONFLICT', `group "${groupId}" already has an instance named "${record.instanceId}"`, { details: [{ field: 'body/name', rule: 'unique', message: 'an instance of this name exists' }] })
  }
  ctx.log.info({ groupId, instanceId: record.instanceId }, 'pull consumer instance created')
  return record
}

async function setSource (ctx: PullContext, groupId: string, instanceId: string, source: PullSource): Promise<PullSource> {
  const { record } = await held(ctx, groupId, instanceId)
  if (source.kind === 'subscription') await checkTopics(ctx.topics, source.topics)
  if (source.kind === 'assignment') await checkPartitions(ctx.topics, source.partitions)
  await dropLocal(ctx, localKey(record), groupId)
  const next = { ...record, source }
  if (!(await ctx.store.setSource(record, source))) throw notFound(groupId, instanceId)
  await ensureLocal(ctx, next)
  announce(ctx, groupId)
  return source
}

async function poll (ctx: PullContext, groupId: string, instanceId: string, opts: PollOptions): Promise<{ records: ConsumedRecord[], record: PullInstanceRecord }> {
  const { local, record } = await held(ctx, groupId, instanceId)
  if (local.source.kind === 'none') throw new AppError(409, 'GW_CONFLICT', `consumer instance "${instanceId}" has no subscription or assignment`, { details: [{ field: 'params/instanceId', rule: 'subscribed', message: 'POST …/subscription or …/assignments first' }] })
  const s = record.settings
  const records = await local.poll({ maxRecords: Math.min(opts.maxRecords ?? s.maxPollRecords, s.maxPollRecords), maxBytes: Math.min(opts.maxBytes ?? s.maxPollBytes, s.maxPollBytes) }, opts.timeoutMs ?? s.requestTimeoutMs)
  return { records, record }
}

async function pollTopic (ctx: PullContext, groupId: string, instanceId: string, topic: string, opts: PollOptions): Promise<{ records: ConsumedRecord[], record: PullInstanceRecord }> {
  const { local } = await held(ctx, groupId, instanceId)
  if (local.source.kind === 'assignment') throw new AppError(409, 'GW_CONFLICT', `consumer instance "${instanceId}" reads assigned partitions, not a subscription`, { details: [{ field: 'params/topic', rule: 'subscribed', message: 'an assigned instance cannot subscribe' }] })
  if (local.source.kind === 'none' || !local.source.topics.includes(topic)) {
    await checkTopics(ctx.topics, [topic], 'params/topic')
    await setSource(ctx, groupId, instanceId, { kind: 'subscription', topics: [...(local.source.kind === 'subscription' ? local.source.topics : []), topic] })
  }
  return await poll(ctx, groupId, instanceId, opts)
}

async function commit (ctx: PullContext, groupId: string, instanceId: string, offsets: PartitionOffset[] | undefined): Promise<PartitionOffset[]> {
  const { local } = await held(ctx, groupId, instanceId)
  const list = offsets ?? local.polledOffsets()
  await viaKafka('commit the offsets', () => local.commit(list))
  return list
}

async function seek (ctx: PullContext, groupId: string, instanceId: string, targets: SeekTarget[]): Promise<PartitionOffset[]> {
  const { local } = await held(ctx, groupId, instanceId)
  const topics = sourceTopics(local.source)
  targets.forEach((t, i) => {
    if (!topics.includes(t.topic)) throw fieldError(`body/offsets/${i}/topic`, 'subscribed', `topic "${t.topic}" is not in this instance's subscription or assignment`)
  })
  const byOffset = targets.flatMap(t => 'offset' in t ? [{ topic: t.topic, partition: t.partition, offset: t.offset }] : [])
  const byTime = targets.flatMap(t => 'timestamp' in t ? [{ topic: t.topic, partition: t.partition, timestamp: t.timestamp }] : [])
  const resolved = [...byOffset, ...await viaKafka('look up offsets by timestamp', () => timestampOffsets(ctx.kafka, byTime))]
  local.seek(resolved)
  return resolved
}

async function seekEdge (ctx: PullContext, groupId: string, instanceId: string, partitions: TopicPartitionRef[] | undefined, edge: 'beginning' | 'end'): Promise<PartitionOffset[]> {
  const { local } = await held(ctx, groupId, instanceId)
  const wanted = partitions ?? local.assigned()
  const offsets = await viaKafka(`read the ${edge} offsets`, () => edgeOffsets(ctx.kafka, wanted, edge))
  local.seek(offsets)
  return offsets
}

async function remove (ctx: PullContext, groupId: string, instanceId: string): Promise<void> {
  await held(ctx, groupId, instanceId)
  await dropLocal(ctx, `${groupId}/${instanceId}`, groupId)
  await ctx.store.remove(groupId, instanceId)
  ctx.log.info({ groupId, instanceId }, 'pull consumer instance deleted')
}

/** Removes expired instances (any owner) and closes the consumers this instance holds whose record is gone or moved. */
async function sweep (ctx: PullContext): Promise<void> {
  const expired = await ctx.store.sweepExpired()
  for (const r of expired) ctx.log.info({ groupId: r.groupId, instanceId: r.instanceId, instanceTimeoutMs: r.settings.instanceTimeoutMs }, 'pull consumer instance closed: idle past its instanceTimeoutMs')
  for (const [key, c] of [...ctx.locals]) {
    const r = await ctx.store.get(c.groupId, c.instanceId)
    if (r === undefined || r.owner !== ctx.clientId) await dropLocal(ctx, key, c.groupId)
  }
}

export function createPullService (deps: PullServiceDeps): PullService {
  const ctx = createPullContext(deps)
  const schedule = (): void => {
    if (ctx.closed) return
    ctx.timer = setTimeout(() => {
      void sweep(ctx).catch((err: unknown) => { ctx.log.warn({ err }, 'pull instance sweep failed') }).finally(schedule)
    }, ctx.sweepEveryMs)
    ctx.timer.unref()
  }
  return {
    clientId: deps.clientId,
    create: (g, input) => create(ctx, g, input),
    route: (g, id, forwarded) => route(ctx, g, id, forwarded),
    setSource: (g, id, source) => setSource(ctx, g, id, source),
    async source (g, id) {
      const { local } = await held(ctx, g, id)
      return { source: local.source, assigned: local.assigned() }
    },
    poll: (g, id, opts) => poll(ctx, g, id, opts),
    pollTopic: (g, id, topic, opts) => pollTopic(ctx, g, id, topic, opts),
    commit: (g, id, offsets) => commit(ctx, g, id, offsets),
    async committed (g, id) {
      const { local } = await held(ctx, g, id)
      return await viaKafka('read the committed offsets', () => committedOffsets(ctx.kafka, g, sourceTopics(local.source)))
    },
    seek: (g, id, targets) => seek(ctx, g, id, targets),
    seekEdge: (g, id, partitions, edge) => seekEdge(ctx, g, id, partitions, edge),
    remove: (g, id) => remove(ctx, g, id),
    instances: g => ctx.store.list(g),
    parts: () => pullParts(ctx),
    start: schedule,
    async close () {
      ctx.closed = true
      clearTimeout(ctx.timer)
      await Promise.allSettled([...ctx.starting.values()])
      const all = [...ctx.locals.values()]
      ctx.locals.clear()
      await Promise.all(all.map(c => c.close()))
    }
  }
}
