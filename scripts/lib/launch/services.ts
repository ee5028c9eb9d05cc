/**
 * The broker and Redis a run needs: the ones KAFKA_BROKERS / REDIS_URL name, else a private single-node
 * Kafka (kafka.ts) and redis-server (redis.ts) started here. `npm test`, `npm run dev` and the benchmarks.
 */
import { KAFKA_VERSION } from './kafka-jars.js'
import { startKafka, type KafkaCluster, type StartKafkaOptions } from './kafka.js'
import { startRedis, type LocalRedis } from './redis.js'

export interface Services {
  brokers: string
  redisUrl: string
  /** Where each came from, for reports. */
  broker: { source: 'local' | 'external', version: string }
  redis: { source: 'local' | 'external' }
  /** Stops what was started here. */
  stop: () => Promise<void>
}

/** A service being started (`starting`) or started (`ready`, with its address and how long it took). */
export type ServiceEvent =
  | { service: 'kafka' | 'redis', phase: 'starting' }
  | { service: 'kafka' | 'redis', phase: 'ready', address: string, ms: number }

export interface ServicesOptions {
  /** How a broker is started when KAFKA_BROKERS is unset or empty (default: one node on a free port). */
  kafka?: StartKafkaOptions
  /** Each caller words its own progress lines. */
  report?: (event: ServiceEvent) => void
}

const given = (v: string | undefined): v is string => v !== undefined && v !== ''

export async function startServices (opts: ServicesOptions = {}): Promise<Services> {
  const report = opts.report ?? (() => undefined)
  let cluster: KafkaCluster | undefined
  let redis: LocalRedis | undefined
  const stop = async (): Promise<void> => {
    await Promise.allSettled([cluster?.stop(), redis?.stop()])
  }
  try {
    let brokers = process.env.KAFKA_BROKERS
    if (!given(brokers)) {
      report({ service: 'kafka', phase: 'starting' })
      const started = Date.now()
      cluster = await startKafka({ nodes: 1, port: 0, ...opts.kafka })
      brokers = cluster.bootstrap
      report({ service: 'kafka', phase: 'ready', address: brokers, ms: Date.now() - started })
    }
    let redisUrl = process.env.REDIS_URL
    if (!given(redisUrl)) {
      report({ service: 'redis', phase: 'starting' })
      const started = Date.now()
      redis = await startRedis({ port: 0 })
      redisUrl = redis.url
      report({ service: 'redis', phase: 'ready', address: redisUrl, ms: Date.now() - started })
    }
    return {
      brokers,
      redisUrl,
      broker: cluster === undefined ? { source: 'external', version: 'unknown (KAFKA_BROKERS)' } : { source: 'local', version: KAFKA_VERSION },
      redis: { source: redis === undefined ? 'external' : 'local' },
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}
