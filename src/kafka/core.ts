/**
 * The core of a gateway instance: the consumers' client, the producer and admin that answer HTTP requests
 * (the producer replaced when a topic it wrote to is deleted: replaceable-producer.ts), and a readiness probe.
 */
import { Kafka, type Admin, type Producer } from 'kafkajs'
import type { Logger } from 'pino'
import type { Config } from '../config/env.js'
import { withTimeout } from '../util/async.js'
import { kafkaClientConfig } from './client-config.js'
import { registerCodecs } from './codecs.js'
import { connector } from './connector.js'
import { errorChain } from './error-chain.js'
import { createReplaceableProducer, settled, stopReplacing } from './replaceable-producer.js'

export interface KafkaCore {
  readonly kafka: Kafka
  /**
   * The current producer (replaced when a topic it wrote to is deleted, see replaceable-producer.ts); prefer
   * connectedProducer(). A reference kept across a replacement still works: its sends go to the producer
   * current at the time.
   */
  readonly producer: Producer
  readonly admin: Admin
  readonly clientId: string
  /** Connects producer and admin; failures are logged and retried on use, never thrown at boot. */
  start (): Promise<void>
  /**
   * The current producer for sends at `acks` (default -1), connected (connecting first when needed). With
   * PRODUCE_IDEMPOTENT (the default) acks -1 goes to Kafka's idempotent producer and acks 0/1, which it
   * cannot serve, to a plain one. Throws when the cluster is unreachable.
   */
  connectedProducer (acks?: number): Promise<Producer>
  connectedAdmin (): Promise<Admin>
  /** Resolves when cluster metadata can be fetched within timeoutMs. */
  ping (timeoutMs: number): Promise<void>
  close (): Promise<void>
}

export interface KafkaCoreOptions {
  /** The producer's metadataMaxAge (kafkajs' default, 5 min, when absent): tests shorten it. */
  producerMetadataMaxAgeMs?: number
}

/** Wrong credentials are not an outage: worth an error naming the settings to fix. */
function isAuthenticationFailure (err: unknown): boolean {
  return errorChain(err).some(e => e.name === 'KafkaJSSASLAuthenticationError')
}

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

  async function connectedAdmin (): Promise<Admin> {
    await adminConn.ensure()
    return admin
  }
  const settings = { requestKafka, metadataMaxAgeMs: options.producerMetadataMaxAgeMs, log, connectedAdmin }
  const producer = createReplaceableProducer({ ...settings, idempotent: config.produce.idempotent })
  // acks 0 and 1 cannot go through an idempotent producer (kafkajs refuses them); connected on first use
  const relaxed = config.produce.idempotent ? createReplaceableProducer({ ...settings, idempotent: false }) : producer
  const producers = relaxed === producer ? [producer] : [producer, relaxed]

  return {
    kafka,
    get producer () { return producer.current.facade },
    admin,
    clientId: config.kafka.clientId,
    async start () {
      await Promise.all([producer.current.conn.ensure(), adminConn.ensure()]).catch((err: unknown) => {
        if (isAuthenticationFailure(err)) log.error({ err }, 'kafka refused the SASL credentials (KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD); readiness answers 503 until they are accepted')
        else log.warn({ err }, 'kafka not reachable at start; will connect on first use')
      })
    },
    async connectedProducer (acks = -1) {
      const gen = await settled(acks === -1 ? producer : relaxed)
      await gen.conn.ensure()
      return gen.facade
    },
    connectedAdmin,
    async ping (timeoutMs) {
      await withTimeout(probeConn.ensure().then(() => probe.describeCluster()), timeoutMs, 'kafka metadata request timed out')
        .catch((err: unknown) => { probeConn.reset(); throw err })
    },
    async close () {
      await Promise.all(producers.map(stopReplacing))
      await Promise.allSettled([...producers.map(p => p.current.raw.disconnect()), admin.disconnect(), probe.disconnect()])
    }
  }
}
