/**
 * A real Apache Kafka (3.9.1, KRaft combined mode) for tests and local runs, without Docker.
 *
 * The broker is a set of jars from Maven Central started with the installed JDK (17):
 * `ensureKafkaJars()` collects them once into a cache outside git, `startKafka()` runs one or
 * three nodes on 127.0.0.1 and resolves once a kafkajs admin client sees every broker and a
 * group coordinator answers (so __consumer_offsets exists before the first consumer joins).
 *
 * As a CLI:
 *   npx tsx scripts/local-kafka.ts start [--nodes 1|3] [--port N] [--data DIR]
 *   npx tsx scripts/local-kafka.ts fetch
 * `start` prints `KAFKA_BROKERS=<bootstrap>` once ready and stops cleanly on SIGINT/SIGTERM.
 *
 * No java process outlives the Node process that started it: children are SIGKILLed on
 * process 'exit', and a tiny `sh` watchdog per broker kills it (and removes its data) when the
 * parent dies without running exit handlers (SIGKILL, an unhandled signal).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { homedir, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { runIfEntry } from './lib/cli.js'
import { keepDirOnExit, killOnExit, removeDirOnExit, runUntilSignal } from './lib/exit-cleanup.js'
import { setTimeout as sleep } from 'node:timers/promises'
import kafkajs from 'kafkajs'

const { Kafka, logLevel } = kafkajs

export const KAFKA_VERSION = '3.9.1'

const ARTIFACTS = [
  ['org.apache.kafka', 'kafka_2.13', KAFKA_VERSION],
  ['org.apache.kafka', 'kafka-tools', KAFKA_VERSION],
  ['org.slf4j', 'slf4j-reload4j', '1.7.36']
] as const

const READY_TIMEOUT_MS = 90_000
const STOP_TIMEOUT_MS = 15_000

export interface StartKafkaOptions {
  /** 1 (default) or 3 brokers, each a combined broker+controller. */
  nodes?: 1 | 3
  /** PLAINTEXT port of the first broker; the others use port+1, port+2. 0 or absent: free ports. */
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

// ---------------------------------------------------------------------------------------------
// jars

/** Cache directory for the jars (outside git). Env KAFKA_JARS_DIR overrides. */
export function kafkaCacheDir (): string {
  return process.env.KAFKA_JARS_DIR ?? join(homedir(), '.cache', 'kafka-http-gateway', `kafka-${KAFKA_VERSION}`)
}

/** The log4j 1.x configuration every broker uses (written by ensureKafkaJars). */
export function kafkaLog4jFile (): string {
  return join(kafkaCacheDir(), 'log4j.properties')
}

const LOG4J = `# Written by scripts/local-kafka.ts: WARN and above to stderr (captured in <node dir>/kafka.log).
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
# One INFO line per start/stop makes the log readable without the noise.
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
log4j.logger.state.change.logger=WARN
# "Connection to node N could not be established" every few ms while a peer is down.
log4j.logger.org.apache.kafka.clients.NetworkClient=ERROR
`

function pomXml (): string {
  const deps = ARTIFACTS.map(([g, a, v]) =>
    `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`
  ).join('\n')
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId>
  <artifactId>kafka-http-gateway-local-kafka</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
${deps}
  </dependencies>
</project>
`
}

/**
 * Makes sure the Kafka jars are in the cache (one `mvn copy-dependencies`, skipped when the
 * marker file says it is done for the same artifact list). Returns the libs directory.
 */
export async function ensureKafkaJars (): Promise<string> {
  const dir = kafkaCacheDir()
  const libs = join(dir, 'libs')
  const marker = join(dir, '.complete')
  const pom = pomXml()
  mkdirSync(dir, { recursive: true })
  if (readIfExists(kafkaLog4jFile()) !== LOG4J) writeFileSync(kafkaLog4jFile(), LOG4J)
  if (readIfExists(marker) === pom && existsSync(libs)) return libs

  writeFileSync(join(dir, 'pom.xml'), pom)
  rmSync(libs, { recursive: true, force: true })
  rmSync(cdsArchiveFile(), { force: true }) // tied to the exact jars
  const args = ['-q', '-B', '-f', join(dir, 'pom.xml'),
    'org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies',
    '-DincludeScope=runtime', `-DoutputDirectory=${libs}`]
  const mvn = spawn('mvn', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  mvn.stdout.on('data', (b: Buffer) => { out += b.toString() })
  mvn.stderr.on('data', (b: Buffer) => { out += b.toString() })
  const [code] = await onceExit(mvn)
  if (code !== 0) {
    throw new Error(`mvn copy-dependencies failed (exit ${String(code)}) in ${dir}:\n${tail(out, 40)}`)
  }
  writeFileSync(marker, pom)
  return libs
}

// ---------------------------------------------------------------------------------------------
// class-data sharing: an AppCDS archive of the broker's classes cuts JVM start by ~40 %.
// The first clean broker exit on a machine writes it (-XX:ArchiveClassesAtExit); later starts map
// it (a JVM stopped by SIGTERM exits with 143 after the dump). A stale or mismatched archive is ignored by the JVM. KAFKA_CDS=0 turns this off.

function cdsArchiveFile (): string {
  return join(kafkaCacheDir(), 'kafka-broker.jsa')
}

let cdsDumpInProgress = false

/** JVM flags for CDS, and what to do once the process exits (publish a freshly dumped archive). */
function cdsArgs (): { args: string[], onExit: (code: number | null) => void } {
  const none = { args: [], onExit: () => undefined }
  if (process.env.KAFKA_CDS === '0') return none
  const archive = cdsArchiveFile()
  if (existsSync(archive)) return { args: [`-XX:SharedArchiveFile=${archive}`], onExit: () => undefined }
  if (cdsDumpInProgress) return none
  cdsDumpInProgress = true
  const tmp = `${archive}.${process.pid}.tmp`
  return {
    args: [`-XX:ArchiveClassesAtExit=${tmp}`],
    onExit: code => {
      cdsDumpInProgress = false
      try {
        if ((code === 0 || code === 143) && existsSync(tmp) && !existsSync(archive)) renameSync(tmp, archive)
      } catch { /* another process won the race */ }
      rmSync(tmp, { force: true })
    }
  }
}

// ---------------------------------------------------------------------------------------------
// cluster

interface NodeState {
  readonly index: number
  readonly port: number
  readonly controllerPort: number
  readonly dir: string
  readonly propsFile: string
  readonly logFile: string
  child: ChildProcess | undefined
}


/** Starts a 1- or 3-node KRaft cluster on 127.0.0.1 and waits until every broker is visible. */
export async function startKafka (opts: StartKafkaOptions = {}): Promise<KafkaCluster> {
  const nodes = opts.nodes ?? 1
  if (nodes !== 1 && nodes !== 3) throw new Error(`nodes must be 1 or 3 (got ${String(nodes)})`)
  const heapMb = opts.heapMb ?? 384
  const readyTimeoutMs = opts.readyTimeoutMs ?? READY_TIMEOUT_MS
  const libs = await ensureKafkaJars()

  const generated = opts.dataDir === undefined
  const dataDir = generated ? mkdtempSync(join(defaultTmpRoot(), 'local-kafka-')) : resolve(opts.dataDir ?? '')
  mkdirSync(dataDir, { recursive: true })
  const keepData = opts.keepData ?? !generated
  if (!keepData) removeDirOnExit(dataDir)

  const basePort = opts.port ?? 0
  if (!Number.isInteger(basePort) || basePort < 0 || basePort + nodes - 1 > 65535) throw new Error(`invalid port ${String(opts.port)}`)
  const brokerPorts = basePort > 0 ? Array.from({ length: nodes }, (_, i) => basePort + i) : await freePorts(nodes)
  const controllerPorts = await freePorts(nodes, brokerPorts)
  // A kept data dir that was formatted before keeps its cluster id (format is skipped for it).
  const clusterId = formattedClusterId(join(dataDir, 'node-0', 'data')) ?? kafkaUuid()
  const voters = controllerPorts.map((p, i) => `${i}@127.0.0.1:${p}`).join(',')

  const state: NodeState[] = brokerPorts.map((port, i) => {
    const dir = join(dataDir, `node-${i}`)
    return {
      index: i,
      port,
      controllerPort: controllerPorts[i] ?? 0,
      dir,
      propsFile: join(dir, 'server.properties'),
      logFile: join(dir, 'kafka.log'),
      child: undefined
    }
  })

  for (const n of state) {
    mkdirSync(join(n.dir, 'data'), { recursive: true })
    const props = serverProps(n, nodes, voters, opts.extraProps ?? {})
    writeFileSync(n.propsFile, Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n')
  }
  await Promise.all(state.map(n => formatStorage(libs, n, clusterId)))

  const brokers = state.map(n => `127.0.0.1:${n.port}`)
  const launch = (n: NodeState): void => {
    const child = spawnBroker(libs, n, heapMb)
    n.child = child
    child.on('error', () => undefined) // a failed spawn shows up as a missing pid in waitReady
    killOnExit(child)
    startWatchdog(child, keepData ? undefined : dataDir)
  }

  const stopNodeWith = async (n: NodeState, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    const child = n.child
    n.child = undefined
    if (child === undefined) return
    await terminate(child, signal)
  }

  const cluster: KafkaCluster = {
    brokers,
    bootstrap: brokers.join(','),
    clusterId,
    dataDir,
    logFile: i => nodeAt(state, i).logFile,
    async stop () {
      await Promise.all(state.map(n => stopNodeWith(n, 'SIGTERM')))
      if (!keepData) {
        rmSync(dataDir, { recursive: true, force: true })
        keepDirOnExit(dataDir)
      }
    },
    async stopNode (i) { await stopNodeWith(nodeAt(state, i), 'SIGTERM') },
    async killNode (i) { await stopNodeWith(nodeAt(state, i), 'SIGKILL') },
    async startNode (i) {
      const n = nodeAt(state, i)
      if (n.child !== undefined) throw new Error(`node ${i} is already running`)
      launch(n)
      await waitReady(brokers, state, [i], readyTimeoutMs)
    }
  }

  try {
    for (const n of state) launch(n)
    await waitReady(brokers, state, state.map(n => n.index), readyTimeoutMs)
  } catch (err) {
    await cluster.stop().catch(() => undefined)
    throw err
  }
  return cluster
}

function nodeAt (state: NodeState[], i: number): NodeState {
  const n = state[i]
  if (n === undefined) throw new Error(`no node ${i} (cluster has ${state.length})`)
  return n
}

function serverProps (n: NodeState, nodes: number, voters: string, extra: Record<string, string>): Record<string, string> {
  const rf = String(nodes === 3 ? 3 : 1)
  const base: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': String(n.index),
    'controller.quorum.voters': voters,
    listeners: `PLAINTEXT://127.0.0.1:${n.port},CONTROLLER://127.0.0.1:${n.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${n.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': join(n.dir, 'data'),
    'num.partitions': '1',
    'auto.create.topics.enable': 'false',
    'offsets.topic.replication.factor': rf,
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': nodes === 3 ? '2' : '1',
    'group.initial.rebalance.delay.ms': '0',
    // Small-machine settings: few threads, and a cleaner buffer that fits a small heap
    // (the 128 MiB default would take a third of 384 MiB).
    'num.network.threads': '2',
    'num.io.threads': '4',
    'num.recovery.threads.per.data.dir': '1',
    'log.cleaner.threads': '1',
    'log.cleaner.dedupe.buffer.size': String(8 * 1024 * 1024)
  }
  if (nodes === 3) {
    Object.assign(base, {
      'default.replication.factor': '3',
      'min.insync.replicas': '2',
      'broker.session.timeout.ms': '3000',
      'broker.heartbeat.interval.ms': '500',
      'controller.quorum.election.timeout.ms': '1000',
      'controller.quorum.fetch.timeout.ms': '2000'
    })
  }
  return { ...base, ...extra }
}

function jvmArgs (libs: string, heapMb: number): string[] {
  return [
    '-XX:+UseG1GC', `-Xms${heapMb}m`, `-Xmx${heapMb}m`, '-XX:MaxGCPauseMillis=20',
    '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${kafkaLog4jFile()}`,
    '-cp', `${libs}/*`
  ]
}

async function formatStorage (libs: string, n: NodeState, clusterId: string): Promise<void> {
  // A short-lived tool: client compiler only, small heap: starts in about a second.
  const cds = process.env.KAFKA_CDS !== '0' && existsSync(cdsArchiveFile()) ? [`-XX:SharedArchiveFile=${cdsArchiveFile()}`] : []
  const args = [...cds, '-XX:TieredStopAtLevel=1', '-Xmx128m', '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${kafkaLog4jFile()}`, '-cp', `${libs}/*`,
    'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', n.propsFile, '--ignore-formatted']
  const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr?.on('data', (b: Buffer) => { out += b.toString() })
  const [code] = await onceExit(child)
  if (code !== 0) throw new Error(`kafka StorageTool format failed for node ${n.index} (exit ${String(code)}):\n${tail(out, 30)}`)
}

function spawnBroker (libs: string, n: NodeState, heapMb: number): ChildProcess {
  const cds = cdsArgs()
  const fd = openSync(n.logFile, 'a')
  try {
    const child = spawn('java', [...cds.args, ...jvmArgs(libs, heapMb), 'kafka.Kafka', n.propsFile], {
      detached: false,
      stdio: ['ignore', fd, fd]
    })
    child.once('exit', code => { cds.onExit(code) })
    return child
  } finally {
    closeSync(fd)
  }
}

/**
 * Kills `child` when this Node process disappears without running its 'exit' handlers,
 * and removes `dataDir` then. Exits by itself when the child exits.
 */
function startWatchdog (child: ChildProcess, dataDir: string | undefined): void {
  if (child.pid === undefined) return
  const script = 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; ' +
    'if ! kill -0 "$1" 2>/dev/null; then kill -9 "$2" 2>/dev/null; if [ -n "$3" ]; then sleep 1; rm -rf "$3"; fi; fi'
  const dog = spawn('sh', ['-c', script, 'local-kafka-watchdog', String(process.pid), String(child.pid), dataDir ?? ''], {
    detached: false,
    stdio: 'ignore'
  })
  dog.unref()
}

async function terminate (child: ChildProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = onceExit(child)
  child.kill(signal)
  const timer = setTimeout(() => { child.kill('SIGKILL') }, STOP_TIMEOUT_MS)
  try {
    await exited
  } finally {
    clearTimeout(timer)
  }
}

/** Polls describeCluster until every node in `want` is listed (and each has its process alive). */
async function waitReady (brokers: string[], state: NodeState[], want: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer yet'
  while (Date.now() < deadline) {
    for (const i of want) {
      const n = nodeAt(state, i)
      const c = n.child
      if (c === undefined || c.pid === undefined || c.exitCode !== null || c.signalCode !== null) {
        throw new Error(`kafka node ${i} exited during startup (${c === undefined ? 'not started' : `code ${String(c.exitCode)}, signal ${String(c.signalCode)}`}); ` +
          `last lines of ${n.logFile}:\n${logTail(n.logFile)}`)
      }
    }
    const kafka = new Kafka({
      clientId: 'local-kafka-ready',
      brokers,
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
      if (missing.length === 0) {
        // Also wait for a group coordinator: the first lookup creates __consumer_offsets, so
        // the first consumer of a test does not meet GROUP_COORDINATOR_NOT_AVAILABLE.
        last = 'waiting for a group coordinator'
        await admin.describeGroups(['local-kafka-ready'])
        return
      }
      last = `describeCluster lists nodes [${[...ids].join(', ')}], waiting for [${missing.join(', ')}]`
    } catch (err) {
      last = err instanceof Error ? err.message : String(err)
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
    await sleep(250)
  }
  const logs = want.map(i => `--- ${nodeAt(state, i).logFile}\n${logTail(nodeAt(state, i).logFile)}`).join('\n')
  throw new Error(`kafka not ready after ${timeoutMs} ms (${last}); last log lines:\n${logs}`)
}

// ---------------------------------------------------------------------------------------------
// helpers

function defaultTmpRoot (): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir()
}

function formattedClusterId (logDir: string): string | undefined {
  const meta = readIfExists(join(logDir, 'meta.properties'))
  return meta === undefined ? undefined : /^cluster\.id=(\S+)$/m.exec(meta)?.[1]
}

/** A Kafka-style Uuid: 16 random bytes, base64url without padding, not starting with '-'. */
function kafkaUuid (): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

/** Ports currently free on 127.0.0.1 (all listeners are held open together, so they differ). */
export async function freePorts (count: number, avoid: number[] = []): Promise<number[]> {
  const servers: Server[] = []
  const ports: number[] = []
  try {
    while (ports.length < count) {
      const s = createServer()
      servers.push(s)
      s.listen(0, '127.0.0.1')
      await once(s, 'listening')
      const addr = s.address()
      if (addr === null || typeof addr === 'string') throw new Error('unexpected server address')
      if (!avoid.includes(addr.port)) ports.push(addr.port)
    }
  } finally {
    await Promise.all(servers.map(async s => await new Promise<void>(resolve => { s.close(() => { resolve() }) })))
  }
  return ports
}

async function onceExit (child: ChildProcess): Promise<[number | null, NodeJS.Signals | null]> {
  if (child.exitCode !== null || child.signalCode !== null) return [child.exitCode, child.signalCode]
  return await new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code, signal) => { resolve([code, signal]) })
  })
}

function readIfExists (file: string): string | undefined {
  try { return readFileSync(file, 'utf8') } catch { return undefined }
}

function tail (text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}

function logTail (file: string, lines = 40): string {
  return tail(readIfExists(file) ?? '(no log)', lines)
}

// ---------------------------------------------------------------------------------------------
// CLI


function flag (args: string[], name: string): string | undefined {
  const i = args.indexOf(name)
  if (i === -1) return undefined
  const v = args[i + 1]
  if (v === undefined) throw new Error(`${name} needs a value`)
  return v
}

async function main (argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv
  if (cmd === 'fetch') {
    console.log(await ensureKafkaJars())
    return
  }
  if (cmd !== 'start') {
    console.error('usage: local-kafka.ts start [--nodes 1|3] [--port N] [--data DIR]\n       local-kafka.ts fetch')
    process.exitCode = 2
    return
  }
  const nodesArg = flag(rest, '--nodes') ?? '1'
  if (nodesArg !== '1' && nodesArg !== '3') throw new Error('--nodes must be 1 or 3')
  const portArg = flag(rest, '--port')
  const dataArg = flag(rest, '--data')
  const started = Date.now()
  const cluster = await startKafka({
    nodes: nodesArg === '3' ? 3 : 1,
    port: portArg === undefined ? 0 : Number(portArg),
    ...(dataArg === undefined ? {} : { dataDir: dataArg })
  })
  console.error(`kafka ready in ${Date.now() - started} ms; data in ${cluster.dataDir}`)
  console.log(`KAFKA_BROKERS=${cluster.bootstrap}`)
  runUntilSignal('kafka', () => cluster.stop())
}

runIfEntry(import.meta.url, main)
