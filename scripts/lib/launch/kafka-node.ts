/** One KRaft node's process: storage format, the broker JVM, and waiting until the cluster lists it. */
import type { ChildProcess } from 'node:child_process'
import kafkajs from 'kafkajs'
import { describeExit, hasExited, runCommand, spawnToLog } from './child.js'
import { brokerCdsArgs, toolCdsArgs } from './kafka-cds.js'
import { kafkaJvmFlags, kafkaLog4jFile } from './kafka-jars.js'
import type { NodeLayout } from './kafka-props.js'
import { clientSecurity, scramFormatArgs, type KafkaSecurity } from './kafka-security.js'
import { classpath } from './java.js'
import { fileTail, tail } from './text.js'
import { waitReady } from './wait.js'

const { Kafka, logLevel } = kafkajs

export interface NodeState extends NodeLayout {
  readonly propsFile: string
  readonly logFile: string
  child: ChildProcess | undefined
}

export async function formatStorage (libs: string, n: NodeState, clusterId: string, security: KafkaSecurity | undefined): Promise<void> {
  // A short-lived tool: client compiler only, small heap: starts in about a second.
  const args = [...toolCdsArgs(), '-XX:TieredStopAtLevel=1', '-Xmx128m', '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${kafkaLog4jFile()}`, ...classpath(libs),
    'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', n.propsFile, '--ignore-formatted', ...scramFormatArgs(security)]
  const { code, out } = await runCommand('java', args)
  if (code !== 0) throw new Error(`kafka StorageTool format failed for node ${n.index} (exit ${String(code)}):\n${tail(out, 30)}`)
}

/** Starts node `n`'s broker; the watchdog removes `dataDir` (when given) if this process dies first. */
export function spawnBroker (libs: string, n: NodeState, heapMb: number, dataDir: string | undefined): ChildProcess {
  const cds = brokerCdsArgs()
  const child = spawnToLog('java', [...cds.args, ...kafkaJvmFlags(libs, heapMb), 'kafka.Kafka', n.propsFile], {
    name: 'local-kafka',
    logFile: n.logFile,
    ...(dataDir !== undefined ? { dir: dataDir } : {})
  })
  child.once('exit', code => { cds.onExit(code) })
  return child
}

function notRunning (n: NodeState): string | undefined {
  const c = n.child
  if (c === undefined) return 'not started'
  return c.pid === undefined || hasExited(c) ? describeExit({ code: c.exitCode, signal: c.signalCode }) : undefined
}

/** One probe: every node in `want` listed by describeCluster, and a group coordinator answering. */
async function clusterProbe (brokers: string[], want: number[], security: KafkaSecurity | undefined): Promise<true | string> {
  const kafka = new Kafka({
    clientId: 'local-kafka-ready',
    brokers,
    ...clientSecurity(security),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 3000,
    retry: { retries: 0 }
  })
  const admin = kafka.admin()
  try {
    await admin.connect()
    const { brokers: seen } = await admin.describeCluster()
    const ids = new Set(seen.map(b => b.nodeId))
    const missing = want.filter(i => !ids.has(i))
    if (missing.length > 0) return `describeCluster lists nodes [${[...ids].join(', ')}], waiting for [${missing.join(', ')}]`
    // The first lookup creates __consumer_offsets, so the first consumer of a test does not meet
    // GROUP_COORDINATOR_NOT_AVAILABLE.
    await admin.describeGroups(['local-kafka-ready'])
    return true
  } catch (err) {
    return err instanceof Error ? err.message : String(err)
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

/** Polls describeCluster until every node in `want` is listed (and each has its process alive). */
export async function waitBrokersReady (brokers: string[], nodes: NodeState[], timeoutMs: number, security: KafkaSecurity | undefined): Promise<void> {
  let dead: NodeState | undefined
  await waitReady({
    what: 'kafka',
    gone: () => {
      dead = nodes.find(n => notRunning(n) !== undefined)
      return dead === undefined ? undefined : `node ${dead.index}: ${notRunning(dead) ?? ''}`
    },
    probe: async () => await clusterProbe(brokers, nodes.map(n => n.index), security),
    timeoutMs,
    everyMs: 250,
    details: () => (dead !== undefined ? [dead] : nodes).map(n => `--- ${n.logFile}\n${fileTail(n.logFile)}`).join('\n')
  })
}
