/**
 * The producer that answers HTTP requests, replaced when a topic it wrote to is deleted: a deleted topic
 * must not take the producer down.
 *
 * kafkajs (2.2.4) adds every topic a producer sends to to its cluster's `targetTopics` (cluster/index.js
 * addMultipleTargetTopics, called by producer/sendMessages.js for each send) and never removes one (only
 * admin.deleteTopics does, on the admin's own cluster); each metadata refresh names all of them
 * (cluster/index.js REFRESH_METADATA → brokerPool.refreshMetadata), and the metadata response parser
 * throws on the first topic error (protocol/requests/metadata/v0/response.js). So once a topic the
 * producer wrote to is deleted, every send that needs fresh metadata fails with UNKNOWN_TOPIC_OR_PARTITION,
 * whatever its own topic: a topic the producer never wrote to at once, all of them when the cached
 * metadata expires (metadataMaxAge, 5 min) or a send hits stale metadata. The target topics are private to
 * kafkajs; so when a send fails with stale metadata and one of the topics the producer has written to no
 * longer exists (the cluster's topic list, read by the admin), the producer is replaced by a new one, and
 * the failed send, when its own topics all exist, is sent again once on the new producer. A send to the
 * deleted topic itself still fails (UNKNOWN_TOPIC_OR_PARTITION: the produce path answers 404).
 */
import type { Admin, Kafka, Producer } from 'kafkajs'
import type { Logger } from 'pino'
import { newGeneration, type Generation, type SendVia } from './producer-generation.js'
import { isStaleMetadataError } from './stale-metadata.js'
import { deliverInSequence } from './idempotent-sends.js'

export interface ProducerSettings {
  /** The client of the producer and admin that answer HTTP requests. */
  readonly requestKafka: Kafka
  /** The producer's metadataMaxAge; kafkajs' default when undefined. */
  readonly metadataMaxAgeMs: number | undefined
  /** The `component: 'kafka'` child logger. */
  readonly log: Logger
  readonly connectedAdmin: () => Promise<Admin>
  /** Kafka's idempotent producer (acks -1 only): sends run one at a time, see idempotent-sends.ts. */
  readonly idempotent: boolean
}

export interface ReplaceableProducer extends ProducerSettings {
  /** The facades' sends, bound to this object. */
  readonly send: SendVia
  /** Generations made so far (the last one's id). */
  generations: number
  current: Generation
  replacing: Promise<Generation> | undefined
  /** Replaced producers still finishing their sends, then disconnecting. */
  readonly draining: Set<Promise<void>>
  closed: boolean
}

export function createReplaceableProducer (settings: ProducerSettings): ReplaceableProducer {
  // a facade sends only once `producer` exists
  const send: SendVia = settings.idempotent
    ? (from, topics, op) => deliverInSequence(producer, from, topics, op, deliver)
    : (from, topics, op) => deliver(producer, from, topics, op)
  const producer: ReplaceableProducer = {
    ...settings,
    send,
    generations: 1,
    current: newGeneration(settings, 1, send),
    replacing: undefined,
    draining: new Set(),
    closed: false
  }
  return producer
}

/** The generation new sends go to: after the replacement under way, if any. */
export async function settled (p: ReplaceableProducer): Promise<Generation> {
  if (p.replacing !== undefined) await p.replacing.catch(() => {})
  return p.current
}

/** No more replacements; waits for the one under way and for replaced producers to disconnect. */
export async function stopReplacing (p: ReplaceableProducer): Promise<void> {
  p.closed = true
  if (p.replacing !== undefined) await p.replacing.catch(() => {})
  await Promise.allSettled([...p.draining])
}

/** Runs `op` on `gen`'s producer (on the current one when `gen` was replaced), tracking topics and the send in flight. */
function attempt<T> (p: ReplaceableProducer, gen: Generation, topics: string[], op: (producer: Producer) => Promise<T>): { gen: Generation, fresh: string[], sent: Promise<T> } {
  const target = gen.retired ? p.current : gen
  const fresh = topics.filter(t => !target.topics.has(t))
  for (const topic of fresh) target.topics.add(topic)
  const sent = op(target.raw)
  target.inFlight.add(sent)
  const done = (): void => { target.inFlight.delete(sent) }
  sent.then(done, done)
  return { gen: target, fresh, sent }
}

export async function deliver<T> (p: ReplaceableProducer, from: Generation, topics: string[], op: (producer: Producer) => Promise<T>): Promise<T> {
  if (from.retired && p.replacing !== undefined) await settled(p)
  const first = attempt(p, from, topics, op)
  try {
    return await first.sent
  } catch (err) {
    if (p.closed || !isStaleMetadataError(err)) throw err
    // A topic this producer had never been sent to before this send, and that does not exist, is no
    // reason to replace it: kafkajs drops a topic it could not add (it stays tracked, in case it was
    // deleted just after being added: the next stale-metadata failure then replaces the producer).
    const deleted = (await deletedTargetTopics(p, first.gen)).filter(t => !first.fresh.includes(t))
    if (deleted.length === 0) throw err
    let next: Generation
    try {
      next = await replace(p, first.gen, `topic${deleted.length === 1 ? '' : 's'} ${deleted.join(', ')} deleted: kafkajs keeps ${deleted.length === 1 ? 'it' : 'them'} in every metadata request of this producer`, deleted)
    } catch (replaceErr) {
      p.log.warn({ err: replaceErr }, 'could not replace the Kafka producer; the next failed send tries again')
      throw err
    }
    // the send's own topic is gone: nothing to resend (its caller answers "no such topic")
    if (topics.some(t => deleted.includes(t))) throw err
    p.log.info({ topics, generation: next.id }, 'sending again on the replacement producer: the send failed only because of a deleted topic')
    return await attempt(p, next, topics, op).sent
  }
}

/** Topics `gen`'s producer wrote to that the cluster no longer has ([] when that cannot be read). */
function deletedTargetTopics (p: ReplaceableProducer, gen: Generation): Promise<string[]> {
  gen.checking ??= (async () => {
    try {
      // listTopics asks for all topics (no names), so no topic is auto-created by asking
      const existing = new Set(await (await p.connectedAdmin()).listTopics())
      return [...gen.topics].filter(t => !existing.has(t))
    } catch (err) {
      p.log.warn({ err }, 'cannot list the cluster\'s topics to check the producer\'s')
      return []
    } finally {
      gen.checking = undefined
    }
  })()
  return gen.checking
}

/** Replaces `from` unless it was replaced already; one replacement at a time. */
export function replace (p: ReplaceableProducer, from: Generation, reason: string, deletedTopics: string[] = []): Promise<Generation> {
  if (from !== p.current || from.retired) return settled(p)
  p.replacing ??= (async () => {
    if (p.closed) throw new Error('the Kafka core is closed')
    const next = newGeneration(p, ++p.generations, p.send)
    p.log.warn({ reason, deletedTopics, generation: next.id, replaces: from.id }, 'replacing the Kafka producer')
    try {
      await next.conn.ensure()
    } catch (err) {
      await next.raw.disconnect().catch(() => {})
      throw err
    }
    if (p.closed) {
      await next.raw.disconnect().catch(() => {})
      throw new Error('the Kafka core is closed')
    }
    p.current = next
    retire(p, from)
    return next
  })().finally(() => { p.replacing = undefined })
  return p.replacing
}

/** Sends already handed to the old producer finish on it; then it disconnects. */
function retire (p: ReplaceableProducer, gen: Generation): void {
  gen.retired = true
  const drain = (async () => {
    while (gen.inFlight.size > 0) await Promise.allSettled([...gen.inFlight])
    await gen.raw.disconnect().catch((err: unknown) => { p.log.warn({ err, generation: gen.id }, 'disconnecting the replaced Kafka producer failed') })
    p.log.info({ generation: gen.id }, 'replaced Kafka producer disconnected')
  })()
  p.draining.add(drain)
  void drain.finally(() => { p.draining.delete(drain) })
}
