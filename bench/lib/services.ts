/**
 * The broker and Redis a benchmark runs against: its own single-node Kafka (scripts/local-kafka.ts)
 * unless KAFKA_BROKERS is set, and its own redis-server (scripts/local-redis.ts) unless REDIS_URL is set.
 */
import { KAFKA_VERSION, startKafka, type KafkaCluster } from '../../scripts/local-kafka.js'
import { startRedis, type LocalRedis } from '../../scripts/local-redis.js'

export interface Services {
  brokers: string
  redisUrl: string
  /** Where the broker came from, for the results file. */
  broker: { source: 'local' | 'external', version: string }
  redis: { source: 'local' | 'external' }
  stop: () => Promise<void>
}

/**
 * Broker settings of our own broker: old segments of deleted or size-capped topics are removed within
 * seconds, so a long run does not fill /dev/shm (where the broker's data lives).
 */
const BENCH_BROKER_PROPS: Record<string, string> = {
  'log.retention.check.interval.ms': '5000',
  'file.delete.delay.ms': '1000'
}

export async function startServices (log: (line: string) => void = console.log): Promise<Services> {
  let cluster: KafkaCluster | undefined
  let redis: LocalRedis | undefined
  const stop = async (): Promise<void> => {
    await Promise.all([cluster?.stop(), redis?.stop()])
  }
  try {
    let brokers = process.env.KAFKA_BROKERS ?? ''
    if (brokers === '') {
      log('# starting a local Kafka broker (KAFKA_BROKERS is not set)')
      cluster = await startKafka({ nodes: 1, port: 0, extraProps: BENCH_BROKER_PROPS })
      brokers = cluster.bootstrap
    }
    let redisUrl = process.env.REDIS_URL ?? ''
    if (redisUrl === '') {
      log('# starting a local redis-server (REDIS_URL is not set)')
      redis = await startRedis()
      redisUrl = redis.url
    }
    return {
      brokers,
      redisUrl,
      broker: cluster === undefined ? { source: 'external', version: 'unknown (KAFKA_BROKERS)' } : { source: 'local', version: KAFKA_VERSION },
      redis: { source: redis === undefined ? 'external' : 'local' },
      stop
    }
  } catch (err) {
    await stop().catch(() => undefined)
    throw err
  }
}
