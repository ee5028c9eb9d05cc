/**
 * The chaos soak's faults as counting-run triggers (../faults.ts): the seven of the scenarios, applied to
 * one long-running rig (three brokers, Redis, two gateway instances), plus "redis-stop" and "network-delay".
 * Every trigger heals what it broke and resolves once the system is seen whole again — the group running
 * on both instances, every replica in sync, and a record handled after the heal committed (no consumer
 * generation can end because of the fault after that: the end of its in-flight window).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { KafkaCluster } from '../../../scripts/lib/launch/kafka.js'
import type { LocalRedis } from '../../../scripts/lib/launch/redis.js'
import type { GatewayProcess } from '../../../scripts/lib/launch/gateway.js'
import type { FaultEvent, FaultWindows, Trigger, TriggerContext } from '../faults.js'
import { coordinatorNode, waitCommitAfter, waitIsrComplete, waitIsrWithout } from '../kafka.js'
import type { Stage } from '../stage.js'
import { waitGroupRunning } from '../stage.js'
import type { ScenarioSize } from '../sizes.js'
import type { DelayProxy } from './delay-proxy.js'
import type { ChaosFault, ChaosStep } from './schedule.js'

export interface ChaosRig {
  kafka: KafkaCluster
  redis: LocalRedis
  stage: Stage
  proxy: DelayProxy
  size: ScenarioSize
}

const KIND: Record<ChaosFault, FaultEvent['kind']> = {
  'webhook-down': 'webhook',
  'webhook-flaky': 'webhook',
  'network-delay': 'webhook',
  'gateway-kill': 'gateway',
  'gateway-takeover': 'gateway',
  'broker-restart': 'broker',
  'broker-loss': 'broker',
  'redis-restart': 'redis',
  'redis-stop': 'redis'
}

const instance = (i: number): string => String.fromCharCode(97 + i)
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

/** What the row and the fault log call a step. */
export function stepName (step: ChaosStep, size: ScenarioSize): string {
  switch (step.fault) {
    case 'webhook-down': return `webhook-down: 503 for ${seconds(step.holdMs)}`
    case 'webhook-flaky': return `webhook-flaky: random faults on ${Math.round(size.flakyProbability * 100)}% of deliveries for ${seconds(step.holdMs)}`
    case 'network-delay': return `network-delay: +${step.delayMs}–${step.delayMs + step.jitterMs} ms each way to the webhook for ${seconds(step.holdMs)}`
    case 'gateway-kill': return `gateway-kill: SIGKILL of instance ${instance(step.target)}, restarted at once`
    case 'gateway-takeover': return `gateway-takeover: SIGKILL of instance ${instance(step.target)}, the other takes over, then it rejoins`
    case 'broker-restart': return `broker-restart: broker ${step.target} stopped (SIGTERM) and started`
    case 'broker-loss': return 'broker-loss: SIGKILL of the group coordinator\'s broker, restarted once out of every ISR'
    case 'redis-restart': return 'redis-restart: Redis stopped and started (its data lost)'
    case 'redis-stop': return `redis-stop: Redis down for ${seconds(step.holdMs)} (its data lost)`
  }
}

/** The group running on both instances again, every replica in sync, and a commit after the heal. */
async function healed (rig: ChaosRig, since: number, healedAt = performance.now()): Promise<number> {
  const { stage: s, size } = rig
  const up = s.gateways.find(g => g.isRunning()) as GatewayProcess
  await waitIsrComplete(s.brokers)
  await waitGroupRunning(up.url, s.groupId, s.topic, size.partitions, s.gateways.map(g => g.clientId), since)
  return await waitCommitAfter(s.brokers, s.groupId, s.topic, s.receiver, healedAt)
}

async function apply (rig: ChaosRig, step: ChaosStep, { log }: TriggerContext): Promise<FaultWindows | undefined> {
  const { kafka, redis, stage: s, proxy, size } = rig
  const gw = s.gateways[step.target % s.gateways.length] as GatewayProcess
  const other = s.gateways.find(g => g !== gw) as GatewayProcess
  // the fault windows below are the faults themselves, not waits for a condition
  switch (step.fault) {
    case 'webhook-down':
      await s.receiver.down(step.holdMs, 503)
      return undefined
    case 'webhook-flaky':
      s.receiver.flaky(size.flakyProbability)
      await sleep(step.holdMs)
      s.receiver.healthy()
      return undefined
    case 'network-delay':
      proxy.delay(step.delayMs, step.jitterMs)
      await sleep(step.holdMs)
      proxy.delay(0, 0)
      return undefined
    case 'gateway-kill': {
      const exit = await gw.kill('SIGKILL')
      const since = Date.now()
      log(`instance ${gw.clientId} killed (${JSON.stringify(exit)}); restarting`)
      await gw.start()
      return { windowEnd: await healed(rig, since) }
    }
    case 'gateway-takeover': {
      await gw.kill('SIGKILL')
      const killed = Date.now()
      await waitGroupRunning(other.url, s.groupId, s.topic, size.partitions, [other.clientId], killed)
      log(`instance ${other.clientId} holds every partition ${Date.now() - killed} ms after the kill; restarting ${gw.clientId}`)
      const since = Date.now()
      await gw.start()
      return { windowEnd: await healed(rig, since) }
    }
    case 'broker-restart': {
      const t0 = Date.now()
      await kafka.stopNode(step.target)
      await kafka.startNode(step.target)
      log(`broker ${step.target} back after ${Date.now() - t0} ms`)
      return { windowEnd: await healed(rig, t0) }
    }
    case 'broker-loss': {
      const node = await coordinatorNode(s.brokers)
      const t0 = Date.now()
      await kafka.killNode(node)
      const killed = performance.now()
      const gone = await waitIsrWithout(s.brokers, s.topic, node)
      log(`broker ${node} (the coordinator) killed; out of every ISR after ${Math.round(gone - killed)} ms; restarting it`)
      await kafka.startNode(node)
      return { windowEnd: await healed(rig, t0) }
    }
    case 'redis-restart':
    case 'redis-stop': {
      const t0 = Date.now()
      await redis.stop()
      if (step.holdMs > 0) await sleep(step.holdMs)
      await redis.start()
      log(`Redis back after ${Date.now() - t0} ms`)
      return { windowEnd: await healed(rig, t0) }
    }
  }
}

/** One line of the fault log: when a step started (ms after production began), how long until healed. */
export interface FaultLogEntry {
  atMs: number
  fault: ChaosFault
  name: string
  durationMs: number
  /** Not applied: production was over when its turn came (the faults before it ran long). */
  skipped: boolean
}

/**
 * The schedule as triggers of one counting run, each at its step's time (and after the previous healed);
 * `faultLog` gets one entry per step. `t0`: when production began (performance.now()).
 */
export function chaosTriggers (rig: ChaosRig, steps: ChaosStep[], faultLog: FaultLogEntry[], t0: () => number): Trigger[] {
  return steps.map(step => ({
    name: stepName(step, rig.size),
    kind: KIND[step.fault],
    when: { afterMs: step.atMs },
    run: async ctx => {
      const start = performance.now()
      const entry: FaultLogEntry = { atMs: Math.round(start - t0()), fault: step.fault, name: stepName(step, rig.size), durationMs: 0, skipped: false }
      faultLog.push(entry)
      // nothing more will be handled: the heal could not be seen (a commit after it)
      if (ctx.producer.accepted >= rig.size.messages) {
        entry.skipped = true
        ctx.log(`${step.fault} skipped: production is over`)
        return undefined
      }
      try {
        return await apply(rig, step, ctx)
      } finally {
        entry.durationMs = Math.round(performance.now() - start)
      }
    }
  }))
}
