import { readFileSync } from 'node:fs'
import { Kafka, Partitioners, type Admin, type KafkaConfig, type Producer, type SASLOptions } from 'kafkajs'
import type { Logger } from 'pino'
import type { Config } from '../config/env.js'
import { kafkajsLevel, pinoLogCreator } from './log-bridge.js'
import { registerCodecs } from './codecs.js'
import { withTimeout } from '../util/async.js'
import { errorChain } from './error-chain.js'

export interface KafkaCore {
  readonly kafka: Kafka
  /**
   * The current producer (replaced when a topic it wrote to is deleted, see `createKafkaCore`); prefer connectedProducer(). A reference kept across a
   * replacement still works: its sends go to the producer current at the time.
   */
  readonly producer: Producer
  readonly admin: Admin
  readonly clientId: string
  /** Connects producer and admin; failures are logged and retried on use, never thrown at boot. */
  start (): Promise<void>
  /** The current producer, connected (connecting first when needed). Throws when the cluster is unreachable. */
  connectedProducer (): Promise<Producer>
  connectedAdmin (): Promise<Admin>
  /** Resolves when cluster metadata can be fetched within timeoutMs. */
  ping (timeoutMs: number): Promise<void>
  close (): Promise<void>
}

export function kafkaClientConfig (config: Config, logger: Logger, overrides: Partial<KafkaConfig> = {}): KafkaConfig {
  const { kafka } = config
  const ssl = kafka.ssl
    ? (kafka.sslCaFile !== undefined ? { ca: [readFileSync(kafka.sslCaFile, 'utf8')] } : true)
    : undefined
  const sasl: SASLOptions | undefined = kafka.sasl === undefined
    ? undefined
    : { mechanism: kafka.sasl.mechanism, username: kafka.sasl.username, password: kafka.sasl.password } as SASLOptions
  return {
    clientId: kafka.clientId,
    brokers: kafka.brokers,
    ssl,
    sasl,
    connectionTimeout: kafka.connectionTimeoutMs,
    requestTimeout: kafka.requestTimeoutMs,
    logLevel: kafkajsLevel(config.logLevel),
    logCreator: pinoLogCreator(logger),
    ...overrides
  }
}

/** One connect at a time per client; later callers share the pending attempt. */
function connector (connect: () => Promise<void>): { ensure: () => Promise<void>, reset: () => void } {
  let pending: Promise<void> | undefined
  return {
    ensure: () => {
      pending ??= connect().catch((err: unknown) => { pending = undefined; throw err })
      return pending
    },
    reset: () => { pending = undefined }
  }
}

/** Kafka error types and kafkajs error names that say a client's topic metadata could not be had. */
const STALE_METADATA_TYPES = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION', 'NOT_LEADER_OR_FOLLOWER'])
const STALE_METADATA_NAMES = new Set(['KafkaJSMetadataNotLoaded', 'KafkaJSTopicMetadataNotLoaded'])

/**
 * Whether `err` (or an error it wraps: kafkajs retries wrap the last failure in `cause`/`originalError`)
 * says topic metadata was unknown or stale — what a send fails with when a topic is gone.
 */
export function isStaleMetadataError (err: unknown): boolean {
  return errorChain(err).some(e => (typeof e.type === 'string' && STALE_METADATA_TYPES.has(e.type)) ||
    (typeof e.name === 'string' && STALE_METADATA_NAMES.has(e.name)))
}

/** One kafkajs producer and what the core knows of it. */
interface Generation {
  readonly id: number
  readonly raw: Producer
  /** What callers get: `raw` with send/sendBatch going through `deliver`. */
  readonly facade: Producer
  readonly conn: ReturnType<typeof connector>
  /**
   * Every topic a send named. kafkajs keeps each one it could add among the producer's target topics for
   * good, so this is a superset of them.
   */
  readonly topics: Set<string>
  readonly inFlight: Set<Promise<unknown>>
  /** The look-up for deleted target topics under way (one at a time). */
  checking: Promise<string[]> | undefined
  /** Replaced: sends through `facade` go to the current generation. */
  retired: boolean
}

export interface KafkaCoreOptions {
  /** The producer's metadataMaxAge (kafkajs' default, 5 min, when absent): tests shorten it. */
  producerMetadataMaxAgeMs?: number
}

/**
 * The core of a gateway instance: the consumers' client, the producer and admin that answer HTTP requests,
 * and a readiness probe.
 *
 * A deleted topic must not take the producer down. kafkajs (2.2.4) adds every topic a producer sends to
 * to its cluster's `targetTopics` (cluster/index.js addMultipleTargetTopics, called by
 * producer/sendMessages.js for each send) and never removes one (only admin.deleteTopics does, on the
 * admin's own cluster); each metadata refresh names all of them (cluster/index.js REFRESH_METADATA →
 * brokerPool.refreshMetadata), and the metadata response parser throws on the first topic error
 * (protocol/requests/metadata/v0/response.js). So once a topic the producer wrote to is deleted, every
 * send that needs fresh metadata fails with UNKNOWN_TOPIC_OR_PARTITION, whatever its own topic: a topic
 * the producer never wrote to at once, all of them when the cached metadata expires (metadataMaxAge,
 * 5 min) or a send hits stale metadata. The target topics are private to kafkajs; so when a send fails
 * with stale metadata and one of the topics the producer has written to no longer exists (the cluster's
 * topic list, read by the admin), the producer is replaced by a new one, and the failed send, when its
 * own topics all exist, is sent again once on the new producer. A send to the deleted topic itself
 * still fails (UNKNOWN_TOPIC_OR_PARTITION: the produce path answers 404).
 */
export function createKafkaCore (config: Config, logger: Logger, options: KafkaCoreOptions = {}): KafkaCore {
  registerCodecs()
  const log = logger.child({ component: 'kafka' })
  // Consumers keep kafkajs's patient default retries; they run unattended and restart on failure.
  const kafka = new Kafka(kafkaClientConfig(config, logger))
  // The producer and admin answer HTTP requests: an unreachable cluster must become a prompt 503
  // (about 1 s) rather than kafkajs's default ~20 s of client-level retries.
  const requestKafka = new Kafka(kafkaClientConfig(config, logger, { retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 } }))
  const admin = requestKafka.admin()
  // Readiness must answer in bounded time, so it uses its own client that never retries.
  const probe = new Kafka(kafkaClientConfig(config, logger, {
    retry: { retries: 0 },
    connectionTimeout: 1000,
    requestTimeout: 2000
  })).admin()

  const adminConn = connector(() => admin.connect())
  const probeConn = connector(() => probe.connect())
  admin.on(admin.events.DISCONNECT, () => adminConn.reset())
  probe.on(probe.events.DISCONNECT, () => probeConn.reset())

  let generations = 0
  let current = generation()
  let replacing: Promise<Generation> | undefined
  /** Replaced producers still finishing their sends, then disconnecting. */
  const draining = new Set<Promise<void>>()
  let closed = false

  function generation (): Generation {
    const raw = requestKafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      ...(options.producerMetadataMaxAgeMs !== undefined ? { metadataMaxAge: options.producerMetadataMaxAgeMs } : {})
    })
    const conn = connector(() => raw.connect())
    raw.on(raw.events.DISCONNECT, () => conn.reset())
    const gen: Generation = {
      id: ++generations,
      raw,
      conn,
      topics: new Set(),
      inFlight: new Set(),
      checking: undefined,
      retired: false,
      facade: {
        ...raw,
        send: record => deliver(gen, [record.topic], p => p.send(record)),
        sendBatch: batch => deliver(gen, (batch.topicMessages ?? []).map(m => m.topic), p => p.sendBatch(batch))
      }
    }
    return gen
  }

  /** The generation new sends go to: after the replacement under way, if any. */
  async function settled (): Promise<Generation> {
    if (replacing !== undefined) await replacing.catch(() => {})
    return current
  }

  /** Runs `op` on `gen`'s producer (on the current one when `gen` was replaced), tracking topics and the send in flight. */
  function attempt<T> (gen: Generation, topics: string[], op: (producer: Producer) => Promise<T>): { gen: Generation, fresh: string[], sent: Promise<T> } {
    const target = gen.retired ? current : gen
    const fresh = topics.filter(t => !target.topics.has(t))
    for (const topic of fresh) target.topics.add(topic)
    const sent = op(target.raw)
    target.inFlight.add(sent)
    const done = (): void => { target.inFlight.delete(sent) }
    sent.then(done, done)
    return { gen: target, fresh, sent }
  }

  async function deliver<T> (from: Generation, topics: string[], op: (producer: Producer) => Promise<T>): Promise<T> {
    if (from.retired && replacing !== undefined) await settled()
    const first = attempt(from, topics, op)
    try {
      return await first.sent
    } catch (err) {
      if (closed || !isStaleMetadataError(err)) throw err
      // A topic this producer had never been sent to before this send, and that does not exist, is no
      // reason to replace it: kafkajs drops a topic it could not add (it stays tracked, in case it was
      // deleted just after being added: the next stale-metadata failure then replaces the producer).
      const deleted = (await deletedTargetTopics(first.gen)).filter(t => !first.fresh.includes(t))
      if (deleted.length === 0) throw err
      let next: Generation
      try {
        next = await replace(first.gen, `topic${deleted.length === 1 ? '' : 's'} ${deleted.join(', ')} deleted: kafkajs keeps ${deleted.length === 1 ? 'it' : 'them'} in every metadata request of this producer`, deleted)
      } catch (replaceErr) {
        log.warn({ err: replaceErr }, 'could not replace the Kafka producer; the next failed send tries again')
        throw err
      }
      // the send's own topic is gone: nothing to resend (its caller answers "no such topic")
      if (topics.some(t => deleted.includes(t))) throw err
      log.info({ topics, generation: next.id }, 'sending again on the replacement producer: the send failed only because of a deleted topic')
      return await attempt(next, topics, op).sent
    }
  }

  /** Topics `gen`'s producer wrote to that the cluster no longer has ([] when that cannot be read). */
  function deletedTargetTopics (gen: Generation): Promise<string[]> {
    gen.checking ??= (async () => {
      try {
        // listTopics asks for all topics (no names), so no topic is auto-created by asking
        const existing = new Set(await (await connectedAdmin()).listTopics())
        return [...gen.topics].filter(t => !existing.has(t))
      } catch (err) {
        log.warn({ err }, 'cannot list the cluster\'s topics to check the producer\'s')
        return []
      } finally {
        gen.checking = undefined
      }
    })()
    return gen.checking
  }

  /** Replaces `from` unless it was replaced already; one replacement at a time. */
  function replace (from: Generation, reason: string, deletedTopics: string[] = []): Promise<Generation> {
    if (from !== current || from.retired) return settled()
    replacing ??= (async () => {
      if (closed) throw new Error('the Kafka core is closed')
      const next = generation()
      log.warn({ reason, deletedTopics, generation: next.id, replaces: from.id }, 'replacing the Kafka producer')
      try {
        await next.conn.ensure()
      } catch (err) {
        await next.raw.disconnect().catch(() => {})
        throw err
      }
      if (closed) {
        await next.raw.disconnect().catch(() => {})
        throw new Error('the Kafka core is closed')
      }
      current = next
      retire(from)
      return next
    })().finally(() => { replacing = undefined })
    return replacing
  }

  /** Sends already handed to the old producer finish on it; then it disconnects. */
  function retire (gen: Generation): void {
    gen.retired = true
    const drain = (async () => {
      while (gen.inFlight.size > 0) await Promise.allSettled([...gen.inFlight])
      await gen.raw.disconnect().catch((err: unknown) => { log.warn({ err, generation: gen.id }, 'disconnecting the replaced Kafka producer failed') })
      log.info({ generation: gen.id }, 'replaced Kafka producer disconnected')
    })()
    draining.add(drain)
    void drain.finally(() => { draining.delete(drain) })
  }

  async function connectedAdmin (): Promise<Admin> {
    await adminConn.ensure()
    return admin
  }

  return {
    kafka,
    get producer () { return current.facade },
    admin,
    clientId: config.kafka.clientId,
    async start () {
      await Promise.all([current.conn.ensure(), adminConn.ensure()]).catch((err: unknown) => {
        log.warn({ err }, 'kafka not reachable at start; will connect on first use')
      })
    },
    async connectedProducer () {
      const gen = await settled()
      await gen.conn.ensure()
      return gen.facade
    },
    connectedAdmin,
    async ping (timeoutMs) {
      await withTimeout(probeConn.ensure().then(() => probe.describeCluster()), timeoutMs, 'kafka metadata request timed out')
        .catch((err: unknown) => { probeConn.reset(); throw err })
    },
    async close () {
      closed = true
      if (replacing !== undefined) await replacing.catch(() => {})
      await Promise.allSettled([...draining])
      await Promise.allSettled([current.raw.disconnect(), admin.disconnect(), probe.disconnect()])
    }
  }
}
