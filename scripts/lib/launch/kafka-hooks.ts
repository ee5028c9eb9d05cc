/**
 * @platformatic/kafka-hooks, the benchmark's Node.js peer (Kafka → webhook delivery, and a produce route
 * `POST /topics/<topic>` taking the raw body as the value), run under Watt (`wattpm start`) with Node 22,
 * from an install outside the project: env KAFKA_HOOKS_DIR (a folder whose node_modules holds
 * @platformatic/kafka-hooks and wattpm) and NODE22 (a Node ≥ 22.14; wattpm and kafka-hooks need it).
 *
 * Each start writes its own platformatic.json into a scratch folder (beside a node_modules link to the
 * install): the topics it delivers are fixed in its config, and so are the ones its route accepts.
 * It listens only once its consumer has joined the group; `GET /` answers 200 then.
 */
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { spawnToLog } from './child.js'
import { removeDirOnExit } from './cleanup.js'
import { freePort } from './free-port.js'
import { stopAndRemove, waitHttpReady } from './http-child.js'
import { installedPackage, nodeFromEnv } from './peer-env.js'

const MIN_NODE = '22.14'

export type KafkaHooksProbe =
  | { available: true, version: string, dir: string, node: string, nodeVersion: string }
  | { available: false, reason: string }

/** Whether kafka-hooks can run here (KAFKA_HOOKS_DIR with the package and wattpm, NODE22 ≥ 22.14), or why not. */
export function probeKafkaHooks (): KafkaHooksProbe {
  const what = 'a folder with @platformatic/kafka-hooks and wattpm installed by npm on Node 22'
  const hooks = installedPackage('KAFKA_HOOKS_DIR', '@platformatic/kafka-hooks', what)
  if (!hooks.ok) return { available: false, reason: hooks.reason }
  const wattpm = installedPackage('KAFKA_HOOKS_DIR', 'wattpm', what)
  if (!wattpm.ok) return { available: false, reason: wattpm.reason }
  const node = nodeFromEnv('NODE22', MIN_NODE)
  if (!node.ok) return { available: false, reason: node.reason }
  return { available: true, version: hooks.value.version, dir: hooks.value.dir, node: node.value.node, nodeVersion: node.value.version }
}

export interface KafkaHooksOptions {
  hooks: Extract<KafkaHooksProbe, { available: true }>
  brokers: string[]
  /** Topics delivered to a webhook (the route accepts them too). */
  deliver: Array<{ topic: string, url: string }>
  /**
   * Topics only produced to through the route. kafka-hooks accepts a topic only when its config lists it:
   * these are listed as the response topic of an unused request/response route, which its consumer reads
   * and drops (no correlation id), instead of as webhook topics it would deliver while the produce run measures.
   */
  produceOnly?: string[]
  groupId: string
  /** Where a new group starts: `earliest` for a pre-filled topic. */
  fallbackMode: 'earliest' | 'latest'
  /** Deliveries in flight (kafka-hooks `concurrency`; it keeps no per-partition order). */
  concurrency: number
}

export interface KafkaHooks {
  readonly url: string
  readonly pid: number | undefined
  readonly logFile: string
  stop (): Promise<void>
}

function config (o: KafkaHooksOptions, port: number): unknown {
  return {
    $schema: `https://schemas.platformatic.dev/@platformatic/kafka-hooks/${o.hooks.version}.json`,
    runtime: { managementApi: false },
    // error: its consumer logs a warning per record it drops (produceOnly topics)
    server: { hostname: '127.0.0.1', port, logger: { level: 'error' } },
    kafka: {
      brokers: o.brokers,
      concurrency: o.concurrency,
      topics: o.deliver.map(d => ({ topic: d.topic, url: d.url, dlq: false, retries: 3, retryDelay: 250 })),
      ...(o.produceOnly !== undefined && o.produceOnly.length > 0
        ? { requestResponse: o.produceOnly.map((t, i) => ({ path: `/bench-unused-${i}`, requestTopic: t, responseTopic: t })) }
        : {}),
      consumer: {
        groupId: o.groupId,
        mode: 'committed',
        fallbackMode: o.fallbackMode,
        maxWaitTime: 500,
        sessionTimeout: 10_000,
        rebalanceTimeout: 15_000,
        heartbeatInterval: 500
      }
    }
  }
}

/** Starts kafka-hooks on a free port of 127.0.0.1; resolves once it listens (its consumer has joined). */
export async function startKafkaHooks (o: KafkaHooksOptions): Promise<KafkaHooks> {
  const port = await freePort()
  const runDir = mkdtempSync(join(tmpdir(), 'kafka-hooks-'))
  removeDirOnExit(runDir)
  writeFileSync(join(runDir, 'platformatic.json'), JSON.stringify(config(o, port), null, 2))
  // Watt resolves kafka-hooks from the config's folder
  symlinkSync(join(o.hooks.dir, 'node_modules'), join(runDir, 'node_modules'), 'dir')
  const logFile = join(runDir, 'kafka-hooks.log')
  const child = spawnToLog(o.hooks.node, [join(runDir, 'node_modules', '.bin', 'wattpm'), 'start'], {
    name: 'kafka-hooks',
    logFile,
    dir: runDir,
    cwd: runDir,
    env: { ...process.env, PATH: `${dirname(o.hooks.node)}:${process.env.PATH ?? ''}` }
  })
  const url = `http://127.0.0.1:${port}`
  const stop = stopAndRemove(child, runDir, 10_000)
  await waitHttpReady(child, { what: 'kafka-hooks', url: `${url}/`, ready: status => status === 200, timeoutMs: 120_000, logFile }, stop)
  return { url, pid: child.pid, logFile, stop }
}
