/** The broker and Redis a benchmark runs against (scripts/lib/launch/services.ts), with the benchmark's broker settings. */
import { startServices, type Services } from '../../scripts/lib/launch/services.js'

/**
 * Settings of our own broker: old segments of deleted or size-capped topics are removed within seconds,
 * so a long run does not fill /dev/shm (where the broker's data lives).
 */
const BENCH_BROKER_PROPS: Record<string, string> = {
  'log.retention.check.interval.ms': '5000',
  'file.delete.delay.ms': '1000'
}

export async function startBenchServices (log: (line: string) => void = console.log): Promise<Services> {
  return await startServices({
    kafka: { nodes: 1, port: 0, extraProps: BENCH_BROKER_PROPS },
    report: e => {
      if (e.phase !== 'starting') return
      log(e.service === 'kafka' ? '# starting a local Kafka broker (KAFKA_BROKERS is not set)' : '# starting a local redis-server (REDIS_URL is not set)')
    }
  })
}
