/**
 * The chaos soak (issue 16, item 5; `npm run soak -- --chaos`): one long counting run on a rig of three
 * brokers (replication 3, min.insync.replicas 2), Redis, two gateway instances behind a client that
 * balances over those up, and a receiver reached through a delay proxy, while the seeded schedule
 * (schedule.ts) applies one fault after another (faults.ts). Counted and verified like every scenario.
 */
import { startKafka, type KafkaCluster } from '../../../scripts/lib/launch/kafka.js'
import { startRedis, type LocalRedis } from '../../../scripts/lib/launch/redis.js'
import type { Verdict } from '../report.js'
import type { Log, ScenarioSize } from '../sizes.js'
import { countOn, stage, withCleanup } from '../stage.js'
import { startDelayProxy, type DelayProxy } from './delay-proxy.js'
import { chaosTriggers, type FaultLogEntry } from './faults.js'
import { chaosSchedule, type ChaosStep } from './schedule.js'

export interface ChaosOutcome {
  verdict: Verdict
  schedule: ChaosStep[]
  faultLog: FaultLogEntry[]
  /** How long the rig took to start (brokers, Redis, gateways, group), ms. */
  setupMs: number
}

/**
 * Per-attempt webhook timeout: the gateway's default. A shorter one (3 s was tried) times out answers the
 * receiver already sent on a loaded machine — a redelivery no fault explains; the network delay adds ≤ 1 s.
 */
const WEBHOOK_TIMEOUT_MS = 10_000

export function chaosTitle (size: ScenarioSize, seconds: number, faults: number): string {
  return `chaos: ${faults} random faults over ${seconds} s (3 brokers, Redis, 2 gateways; seed ${size.seed})`
}

export async function runChaos (size: ScenarioSize, seconds: number, log: Log): Promise<ChaosOutcome> {
  const schedule = chaosSchedule(size.seed, { totalMs: seconds * 1000 })
  return await withCleanup(async cleanup => {
    const bootAt = Date.now()
    const kafka: KafkaCluster = await startKafka({ nodes: 3, port: 0 })
    cleanup.add(async () => {
      // killing each node first makes stop() immediate (no controlled shutdown against a lost quorum)
      for (let i = 0; i < 3; i++) await kafka.killNode(i).catch(() => undefined)
      await kafka.stop()
    })
    const redis: LocalRedis = await startRedis({ port: 0 })
    cleanup.add(() => redis.stop())
    log(`3-broker cluster ${kafka.bootstrap} and Redis ${redis.url} ready in ${Date.now() - bootAt} ms`)

    let proxy: DelayProxy | undefined
    const s = await stage(cleanup, size, {
      brokers: kafka.bootstrap,
      redisUrl: redis.url,
      sharedKafka: false,
      sharedRedis: false,
      instances: 2,
      topic: { replicationFactor: 3, configs: { 'min.insync.replicas': '2' } },
      webhookTimeoutMs: WEBHOOK_TIMEOUT_MS,
      webhookUrl: async receiverUrl => {
        const target = new URL(receiverUrl)
        const p = await startDelayProxy({ host: target.hostname, port: Number(target.port) }, size.seed)
        cleanup.add(() => p.close())
        proxy = p
        return `http://${p.address}${target.pathname}`
      }
    }, log)
    const setupMs = Date.now() - bootAt
    const rig = { kafka, redis, stage: s, proxy: proxy as DelayProxy, size }

    const faultLog: FaultLogEntry[] = []
    let t0 = performance.now()
    const triggers = chaosTriggers(rig, schedule, faultLog, () => t0)
    log(`schedule (seed ${size.seed}): ${schedule.map(st => `${Math.round(st.atMs / 1000)} s ${st.fault}`).join(', ')}`)
    t0 = performance.now()
    // a load balancer: POSTs go to the instances that are up
    const verdict = await countOn(s, size, log, chaosTitle(size, seconds, schedule.length), () => s.gateways.filter(g => g.isRunning()).map(g => g.url), { triggers })
    verdict.fault = chaosTitle(size, seconds, faultLog.filter(f => !f.skipped).length)
    return { verdict, schedule, faultLog, setupMs }
  })
}
