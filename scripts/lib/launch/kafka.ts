/**
 * A real Apache Kafka (3.9.1, KRaft combined mode) for tests and local runs, without Docker: one or three
 * nodes on 127.0.0.1 from the jars of kafka-jars.ts, started with the installed JDK (17). `startKafka()`
 * resolves once a kafkajs admin client sees every broker and a group coordinator answers (so
 * __consumer_offsets exists before the first consumer joins). No broker outlives this process (cleanup.ts).
 * With `security`, the client ports require SASL_SSL (kafka-security.ts).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { stopChild } from './child.js'
import { keepDirOnExit, removeDirOnExit } from './cleanup.js'
import { freePorts } from './free-port.js'
import { ensureKafkaJars } from './kafka-jars.js'
import { formatStorage, spawnBroker, waitBrokersReady, type NodeState } from './kafka-node.js'
import { formattedClusterId, kafkaUuid, serverProps, writeProps } from './kafka-props.js'
import { securityProps, type KafkaSecurity } from './kafka-security.js'

const READY_TIMEOUT_MS = 90_000
const STOP_TIMEOUT_MS = 15_000

export interface StartKafkaOptions {
  /** 1 (default) or 3 brokers, each a combined broker+controller. */
  nodes?: 1 | 3
  /** Client port (PLAINTEXT, or SASL_SSL with `security`) of the first broker; the others use port+1, port+2. 0 or absent: free ports. */
  port?: number
  /** Where node data and logs go. Default: a fresh directory under /dev/shm (or the OS temp dir). */
  dataDir?: string
  /** JVM heap per broker in MiB (default 384). */
  heapMb?: number
  /** Extra or overriding server.properties entries, applied to every node. */
  extraProps?: Record<string, string>
  /** Keep the data directory on stop(). Default: false for a generated dir, true for a given `dataDir`. */
  keepData?: boolean
  /** Readiness bound in ms (default 90000). */
  readyTimeoutMs?: number
  /** SASL_SSL (SCRAM-SHA-512 and PLAIN) instead of PLAINTEXT on the broker ports: kafka-security.ts. */
  security?: KafkaSecurity
}

export interface KafkaCluster {
  /** "127.0.0.1:port" per node, index = node index = Kafka node.id. */
  readonly brokers: string[]
  /** The brokers as one comma-separated list (what KAFKA_BROKERS takes). */
  readonly bootstrap: string
  readonly clusterId: string
  /** Root of all node directories (node-<i>/data, node-<i>/kafka.log, node-<i>/server.properties). */
  readonly dataDir: string
  /** Path of node i's stdout/stderr log. */
  logFile (i: number): string
  /** SIGTERM every node, wait for exit (SIGKILL after 15 s), then delete the data dir (unless kept). */
  stop (): Promise<void>
  /** Graceful stop of node i (SIGTERM, SIGKILL after 15 s). */
  stopNode (i: number): Promise<void>
  /** SIGKILL node i and wait for it to be gone. */
  killNode (i: number): Promise<void>
  /** Restart node i with the same data and ports; resolves once it is back in describeCluster. */
  startNode (i: number): Promise<void>
}

/** What a started cluster is made of: its nodes, and how they run. */
interface Cluster {
  readonly libs: string
  readonly nodes: NodeState[]
  readonly brokers: string[]
  readonly dataDir: string
  readonly keepData: boolean
  readonly heapMb: number
  readonly readyTimeoutMs: number
  readonly security: KafkaSecurity | undefined
}

function nodeAt (c: Cluster, i: number): NodeState {
  const n = c.nodes[i]
  if (n === undefined) throw new Error(`no node ${i} (cluster has ${c.nodes.length})`)
  return n
}

function launch (c: Cluster, n: NodeState): void {
  n.child = spawnBroker(c.libs, n, c.heapMb, c.keepData ? undefined : c.dataDir)
}

async function halt (n: NodeState, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const child = n.child
  n.child = undefined
  if (child !== undefined) await stopChild(child, signal, STOP_TIMEOUT_MS)
}

async function stopCluster (c: Cluster): Promise<void> {
  await Promise.all(c.nodes.map(n => halt(n, 'SIGTERM')))
  if (!c.keepData) {
    rmSync(c.dataDir, { recursive: true, force: true })
    keepDirOnExit(c.dataDir)
  }
}

async function ports (opts: StartKafkaOptions, nodes: number): Promise<{ broker: number[], controller: number[] }> {
  const base = opts.port ?? 0
  if (!Number.isInteger(base) || base < 0 || base + nodes - 1 > 65535) throw new Error(`invalid port ${String(opts.port)}`)
  const broker = base > 0 ? Array.from({ length: nodes }, (_, i) => base + i) : await freePorts(nodes)
  return { broker, controller: await freePorts(nodes, broker) }
}

function dataDirFor (opts: StartKafkaOptions): { dataDir: string, keepData: boolean } {
  const generated = opts.dataDir === undefined
  const root = existsSync('/dev/shm') ? '/dev/shm' : tmpdir()
  const dataDir = generated ? mkdtempSync(join(root, 'local-kafka-')) : resolve(opts.dataDir ?? '')
  mkdirSync(dataDir, { recursive: true })
  const keepData = opts.keepData ?? !generated
  if (!keepData) removeDirOnExit(dataDir)
  return { dataDir, keepData }
}

/** Writes every node's server.properties and formats its storage; returns the cluster id. */
async function prepareNodes (libs: string, nodes: NodeState[], extra: Record<string, string>, security: KafkaSecurity | undefined): Promise<string> {
  const clusterId = formattedClusterId(join(nodes[0]?.dir ?? '', 'data')) ?? kafkaUuid()
  const voters = nodes.map(n => `${n.index}@127.0.0.1:${n.controllerPort}`).join(',')
  for (const n of nodes) {
    mkdirSync(join(n.dir, 'data'), { recursive: true })
    writeProps(n.propsFile, serverProps(n, nodes.length, voters, { ...securityProps(n, security), ...extra }))
  }
  await Promise.all(nodes.map(n => formatStorage(libs, n, clusterId, security)))
  return clusterId
}

/** Starts a 1- or 3-node KRaft cluster on 127.0.0.1 and waits until every broker is visible. */
export async function startKafka (opts: StartKafkaOptions = {}): Promise<KafkaCluster> {
  const count = opts.nodes ?? 1
  if (count !== 1 && count !== 3) throw new Error(`nodes must be 1 or 3 (got ${String(count)})`)
  const libs = await ensureKafkaJars()
  const { dataDir, keepData } = dataDirFor(opts)
  const p = await ports(opts, count)
  const nodes: NodeState[] = p.broker.map((port, index) => {
    const dir = join(dataDir, `node-${index}`)
    return { index, port, controllerPort: p.controller[index] ?? 0, dir, propsFile: join(dir, 'server.properties'), logFile: join(dir, 'kafka.log'), child: undefined }
  })
  const clusterId = await prepareNodes(libs, nodes, opts.extraProps ?? {}, opts.security)
  const c: Cluster = {
    libs,
    nodes,
    brokers: nodes.map(n => `127.0.0.1:${n.port}`),
    dataDir,
    keepData,
    heapMb: opts.heapMb ?? 384,
    readyTimeoutMs: opts.readyTimeoutMs ?? READY_TIMEOUT_MS,
    security: opts.security
  }
  try {
    for (const n of nodes) launch(c, n)
    await waitBrokersReady(c.brokers, nodes, c.readyTimeoutMs, c.security)
  } catch (err) {
    await stopCluster(c).catch(() => undefined)
    throw err
  }
  return {
    brokers: c.brokers,
    bootstrap: c.brokers.join(','),
    clusterId,
    dataDir,
    logFile: i => nodeAt(c, i).logFile,
    stop: async () => { await stopCluster(c) },
    stopNode: async i => { await halt(nodeAt(c, i), 'SIGTERM') },
    killNode: async i => { await halt(nodeAt(c, i), 'SIGKILL') },
    async startNode (i) {
      const n = nodeAt(c, i)
      if (n.child !== undefined) throw new Error(`node ${i} is already running`)
      launch(c, n)
      await waitBrokersReady(c.brokers, [n], c.readyTimeoutMs, c.security)
    }
  }
}
