import { readFileSync } from 'node:fs'
import { Kafka, Partitioners, type Admin, type KafkaConfig, type Producer, type SASLOptions } from 'kafkajs'
import type { Logger } from 'pino'
import type { Config } from '../config/env.js'
import { kafkajsLevel, pinoLogCreator } from './log-bridge.js'
import { registerCodecs } from './codecs.js'
import { withTimeout } from '../util/async.js'

export interface KafkaCore {
  readonly kafka: Kafka
  readonly producer: Producer
  readonly admin: Admin
  readonly clientId: string
  /** Connects producer and admin; failures are logged and retried on use, never thrown at boot. */
  start (): Promise<void>
  /** The producer, connected (connecting first when needed). Throws when the cluster is unreachable. */
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

export function createKafkaCore (config: Config, logger: Logger): KafkaCore {
  registerCodecs()
  const log = logger.child({ component: 'kafka' })
  // Consumers keep kafkajs's patient default retries; they run unattended and restart on failure.
  const kafka = new Kafka(kafkaClientConfig(config, logger))
  // The producer and admin answer HTTP requests: an unreachable cluster must become a prompt 503
  // (about 1 s) rather than kafkajs's default ~20 s of client-level retries.
  const requestKafka = new Kafka(kafkaClientConfig(config, logger, { retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 } }))
  const producer = requestKafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner
  })
  const admin = requestKafka.admin()
  // Readiness must answer in bounded time, so it uses its own client that never retries.
  const probe = new Kafka(kafkaClientConfig(config, logger, {
    retry: { retries: 0 },
    connectionTimeout: 1000,
    requestTimeout: 2000
  })).admin()

  const producerConn = connector(() => producer.connect())
  const adminConn = connector(() => admin.connect())
  const probeConn = connector(() => probe.connect())
  producer.on(producer.events.DISCONNECT, () => producerConn.reset())
  admin.on(admin.events.DISCONNECT, () => adminConn.reset())
  probe.on(probe.events.DISCONNECT, () => probeConn.reset())

  return {
    kafka,
    producer,
    admin,
    clientId: config.kafka.clientId,
    async start () {
      await Promise.all([producerConn.ensure(), adminConn.ensure()]).catch((err: unknown) => {
        log.warn({ err }, 'kafka not reachable at start; will connect on first use')
      })
    },
    async connectedProducer () {
      await producerConn.ensure()
      return producer
    },
    async connectedAdmin () {
      await adminConn.ensure()
      return admin
    },
    async ping (timeoutMs) {
      await withTimeout(probeConn.ensure().then(() => probe.describeCluster()), timeoutMs, 'kafka metadata request timed out')
        .catch((err: unknown) => { probeConn.reset(); throw err })
    },
    async close () {
      await Promise.allSettled([producer.disconnect(), admin.disconnect(), probe.disconnect()])
    }
  }
}
