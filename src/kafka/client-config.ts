/** The kafkajs client configuration from the gateway's: brokers, TLS, SASL, timeouts, and logs through pino. */
import { readFileSync } from 'node:fs'
import type { KafkaConfig, SASLOptions } from 'kafkajs'
import type { Logger } from 'pino'
import type { Config } from '../config/env.js'
import { kafkajsLevel, pinoLogCreator } from './log-bridge.js'

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
