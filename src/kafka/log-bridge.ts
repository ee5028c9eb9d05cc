import { logLevel, type logCreator } from 'kafkajs'
import type { Logger } from 'pino'

/**
 * Routes kafkajs log lines into pino at each line's own level (the seed library reported every line
 * at the configured level). Lines carry event KAFKA_LOG, the seed's callback name, so operators can grep it.
 */
export function pinoLogCreator (logger: Logger): logCreator {
  const log = logger.child({ component: 'kafkajs' })
  return () => ({ namespace, level, log: entry }) => {
    const { message, timestamp: _ts, logger: _l, ...rest } = entry
    // bounded retries are safe here: a failed send replaces the idempotent producer (kafka/idempotent-sends.ts)
    if (level === logLevel.WARN && message.startsWith('Limiting retries for the idempotent producer')) return
    const fields = { event: level === logLevel.ERROR ? 'ERROR' : 'KAFKA_LOG', namespace, ...rest }
    switch (level) {
      case logLevel.ERROR: log.error(fields, message); break
      case logLevel.WARN: log.warn(fields, message); break
      case logLevel.INFO: log.info(fields, message); break
      case logLevel.DEBUG: log.debug(fields, message); break
      default: break
    }
  }
}

/** kafkajs filters before calling the log creator; ask it for what pino will keep. */
export function kafkajsLevel (pinoLevel: string): logLevel {
  switch (pinoLevel) {
    case 'trace':
    case 'debug': return logLevel.DEBUG
    case 'info': return logLevel.INFO
    case 'warn': return logLevel.WARN
    case 'silent': return logLevel.NOTHING
    default: return logLevel.ERROR
  }
}
