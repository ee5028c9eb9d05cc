/**
 * The peer gateway for the benchmark: Strimzi Kafka Bridge (HTTP ↔ Kafka, Vert.x, Java).
 *
 * STATUS ON THESE MACHINES: IT CANNOT BE RUN. The bridge is not on Maven Central.
 * The benchmark must report it as "not run" with the reason `probeStrimziBridge()` returns, not as
 * a figure. What was checked (2026-11, Maven Central being the only Java registry reachable here):
 * - `mvn dependency:get -U -Dartifact=io.strimzi:kafka-bridge:<v>` fails for 0.28.0, 0.30.0 and
 *   0.31.1 with "Could not find artifact io.strimzi:kafka-bridge:jar:<v> in central"; the pom is
 *   missing too (HTTP 404) for every version probed (0.15.0, 0.19.0 ... 0.31.1, 0.32.0, 0.33.x,
 *   0.34.0, 1.0.0, and the 0.32.0/0.33.0 release candidates), and there is no
 *   `io/strimzi/kafka-bridge/maven-metadata.xml` at all. Neighbouring Strimzi
 *   artifacts do resolve (`io.strimzi:api`, `kafka-oauth-client`, `kafka-env-var-config-provider`),
 *   so the mirror works: the bridge itself was never released there. Its release process
 *   (development-docs/RELEASING.md, .azure/ pipelines) publishes container images
 *   (quay.io/strimzi/kafka-bridge) and ZIP/TAR.GZ archives on GitHub releases; the pom's
 *   Sonatype staging profile runs with autoReleaseAfterClose=false.
 * - No Docker engine here (container images are out), GitHub release archives are not reachable,
 *   and no other registry (npm, Debian) packages it. Building it from source would need the source
 *   tree, which is not fetchable here either.
 * - Java is not the obstacle: 0.31.1 (Kafka clients 3.9.0, Vert.x 4.5.11) targets Java 11 and
 *   its containers run Java 17, the JDK installed here.
 *
 * So this module is ready for a machine where the jars exist: point `libsDir` (or env
 * STRIMZI_BRIDGE_LIBS) at the `libs/` folder of an unpacked release archive
 * (kafka-bridge-0.31.1.tar.gz), or let it resolve `io.strimzi:kafka-bridge:<version>` from
 * whatever Maven repository ~/.m2/settings.xml names (e.g. a company mirror that holds it) into
 * ~/.cache/kafka-http-gateway/strimzi-bridge-<version>/libs. It then runs
 *   java -cp libs/* io.strimzi.kafka.bridge.Application --config-file application.properties
 * (what the release's bin/kafka_bridge_run.sh runs) with `bridge.id`, `kafka.bootstrap.servers`,
 * `http.host=127.0.0.1`, `http.port=<free port>`, a log4j2 config of our own, and waits until
 * `GET /ready` answers 2xx.
 *
 * Its produce API, for the load generator (`strimziProduceRequest()` builds it):
 *   POST /topics/{topic}
 *   Content-Type: application/vnd.kafka.json.v2+json
 *   {"records":[{"value":<any JSON>}, ...]}            (optional "key", "partition", "headers")
 * answers 200 with {"offsets":[{"partition":p,"offset":o} | {"error_code":..,"message":..}]}.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePorts } from '../../scripts/local-kafka.js'
import { keepDirOnExit, killOnExit, removeDirOnExit } from '../../scripts/lib/exit-cleanup.js'

/** The release we would run: the last Vert.x-based 0.x line, Kafka clients 3.9.0, runs on Java 17. */
export const STRIMZI_BRIDGE_VERSION = '0.31.1'
export const STRIMZI_BRIDGE_COORDINATES = `io.strimzi:kafka-bridge:${STRIMZI_BRIDGE_VERSION}`
export const STRIMZI_MAIN_CLASS = 'io.strimzi.kafka.bridge.Application'
/** Content type of the bridge's JSON embedded format (record values are JSON). */
export const STRIMZI_JSON_CONTENT_TYPE = 'application/vnd.kafka.json.v2+json'

const READY_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 10_000

/** Thrown when the bridge's jars cannot be had; `reason` is one line fit for a results table. */
export class StrimziBridgeUnavailableError extends Error {
  readonly reason: string
  readonly details: string
  constructor (reason: string, details: string) {
    super(`Strimzi Kafka Bridge unavailable: ${reason}`)
    this.name = 'StrimziBridgeUnavailableError'
    this.reason = reason
    this.details = details
  }
}

export interface StrimziJarsOptions {
  /** Release to resolve (default STRIMZI_BRIDGE_VERSION). */
  version?: string
  /** A folder with the bridge jars (an unpacked release's libs/); default env STRIMZI_BRIDGE_LIBS. */
  libsDir?: string
}

export interface StartStrimziBridgeOptions extends StrimziJarsOptions {
  /** Kafka bootstrap list, e.g. "127.0.0.1:9092". */
  bootstrap: string
  /** HTTP port (default: a free one). */
  port?: number
  /** JVM heap in MiB (default 512). */
  heapMb?: number
  /** Producer settings, written as `kafka.producer.<key>` (default acks=1, as in the bridge's own sample config). */
  producerProps?: Record<string, string | number>
  /** Readiness bound in ms (default 60000). */
  readyTimeoutMs?: number
}

export interface StrimziBridge {
  /** "http://127.0.0.1:<port>" */
  readonly url: string
  readonly version: string
  readonly pid: number | undefined
  /** The bridge's stdout/stderr. */
  readonly logFile: string
  /** SIGTERM, SIGKILL after 10 s; removes the run directory. */
  stop (): Promise<void>
}

export type StrimziProbe =
  | { available: true, version: string, libsDir: string }
  | { available: false, version: string, reason: string, details: string }

// ---------------------------------------------------------------------------------------------
// jars

export function strimziCacheDir (version = STRIMZI_BRIDGE_VERSION): string {
  return join(homedir(), '.cache', 'kafka-http-gateway', `strimzi-bridge-${version}`)
}

function pomXml (version: string): string {
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId>
  <artifactId>kafka-http-gateway-strimzi-bridge</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>io.strimzi</groupId><artifactId>kafka-bridge</artifactId><version>${version}</version></dependency>
  </dependencies>
</project>
`
}

const LOG4J2 = `# Written by bench/lib/strimzi-bridge.ts: WARN and above, plus the bridge's start lines.
name = BenchBridge
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %-5p <%c{1}> %m%n
rootLogger.level = WARN
rootLogger.appenderRef.console.ref = STDOUT
logger.bridge.name = io.strimzi.kafka.bridge.Application
logger.bridge.level = INFO
`

/**
 * The bridge's jar folder: `libsDir` / STRIMZI_BRIDGE_LIBS when given, else one
 * `mvn copy-dependencies` of io.strimzi:kafka-bridge:<version> into the cache (skipped once done).
 * Throws StrimziBridgeUnavailableError with Maven's reason when it does not resolve.
 */
export async function ensureStrimziBridgeJars (opts: StrimziJarsOptions = {}): Promise<string> {
  const version = opts.version ?? STRIMZI_BRIDGE_VERSION
  const given = opts.libsDir ?? process.env.STRIMZI_BRIDGE_LIBS
  if (given !== undefined && given !== '') {
    if (!existsSync(given) || !readdirSync(given).some(f => /^kafka-bridge-.*\.jar$/.test(f))) {
      throw new StrimziBridgeUnavailableError(`no kafka-bridge-*.jar in ${given}`, '')
    }
    return given
  }

  const dir = strimziCacheDir(version)
  const libs = join(dir, 'libs')
  const marker = join(dir, '.complete')
  const pom = pomXml(version)
  mkdirSync(dir, { recursive: true })
  if (readIfExists(marker) === pom && existsSync(libs)) return libs

  writeFileSync(join(dir, 'pom.xml'), pom)
  rmSync(libs, { recursive: true, force: true })
  const args = ['-B', '-f', join(dir, 'pom.xml'),
    'org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies',
    '-DincludeScope=runtime', `-DoutputDirectory=${libs}`]
  const { code, out } = await run('mvn', args, dir)
  if (code !== 0) {
    // Maven says "Could not find artifact g:a:jar:v in central" the first time and
    // "g:a:jar:v was not found in <repo> during a previous attempt" while the miss is cached.
    const m = /Could not find artifact (\S+)|(\S+) was not found in/.exec(out)
    const missing = m?.[1] ?? m?.[2]
    const reason = missing !== undefined
      ? `${missing} is not in the configured Maven repositories (Maven Central does not carry the bridge; it ships as container images and GitHub release archives)`
      : `mvn copy-dependencies of io.strimzi:kafka-bridge:${version} failed (exit ${String(code)})`
    throw new StrimziBridgeUnavailableError(reason, tail(out, 40))
  }
  writeFileSync(marker, pom)
  return libs
}

/** Whether the bridge can run here, without throwing: for the benchmark's "not run because" row. */
export async function probeStrimziBridge (opts: StrimziJarsOptions = {}): Promise<StrimziProbe> {
  const version = opts.version ?? STRIMZI_BRIDGE_VERSION
  try {
    return { available: true, version, libsDir: await ensureStrimziBridgeJars(opts) }
  } catch (err) {
    if (err instanceof StrimziBridgeUnavailableError) return { available: false, version, reason: err.reason, details: err.details }
    return { available: false, version, reason: err instanceof Error ? err.message : String(err), details: '' }
  }
}

// ---------------------------------------------------------------------------------------------
// process


/** The bridge's application.properties for one run. */
export function strimziBridgeProperties (bootstrap: string, port: number, producerProps: Record<string, string | number> = {}): string {
  const props: Record<string, string> = {
    'bridge.id': 'kafka-http-gateway-bench',
    'kafka.bootstrap.servers': bootstrap,
    'kafka.producer.acks': '1',
    'kafka.consumer.auto.offset.reset': 'earliest',
    'http.enabled': 'true',
    'http.host': '127.0.0.1',
    'http.port': String(port),
    'http.cors.enabled': 'false',
    'http.consumer.enabled': 'true',
    'http.producer.enabled': 'true'
  }
  for (const [k, v] of Object.entries(producerProps)) props[`kafka.producer.${k}`] = String(v)
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n'
}

/**
 * Starts the bridge on 127.0.0.1 and resolves once `GET /ready` answers 2xx.
 * Throws StrimziBridgeUnavailableError when the jars cannot be had (the case on these machines).
 */
export async function startStrimziBridge (opts: StartStrimziBridgeOptions): Promise<StrimziBridge> {
  const version = opts.version ?? STRIMZI_BRIDGE_VERSION
  const libs = await ensureStrimziBridgeJars(opts)
  const cache = strimziCacheDir(version)
  mkdirSync(cache, { recursive: true })
  const log4j = join(cache, 'log4j2.properties')
  if (readIfExists(log4j) !== LOG4J2) writeFileSync(log4j, LOG4J2)

  const port = opts.port ?? (await freePorts(1))[0] ?? 0
  const runDir = mkdtempSync(join(tmpdir(), 'strimzi-bridge-'))
  removeDirOnExit(runDir)
  const configFile = join(runDir, 'application.properties')
  writeFileSync(configFile, strimziBridgeProperties(opts.bootstrap, port, opts.producerProps))
  const logFile = join(runDir, 'bridge.log')
  const heapMb = opts.heapMb ?? 512

  const fd = openSync(logFile, 'a')
  let child: ChildProcess
  try {
    child = spawn('java', [
      `-Xms${heapMb}m`, `-Xmx${heapMb}m`, '-XX:+UseG1GC', '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true', '-Djava.security.egd=file:/dev/./urandom',
      `-Dvertx.cacheDirBase=${join(runDir, 'vertx-cache')}`,
      `-Dlog4j2.configurationFile=file:${log4j}`,
      '-cp', `${libs}/*`, STRIMZI_MAIN_CLASS, '--config-file', configFile
    ], { stdio: ['ignore', fd, fd] })
  } finally {
    closeSync(fd)
  }
  child.on('error', () => undefined) // a failed spawn shows as an exited child in waitReady
  killOnExit(child)

  const url = `http://127.0.0.1:${String(port)}`
  const stop = async (): Promise<void> => {
    await terminate(child)
    rmSync(runDir, { recursive: true, force: true })
    keepDirOnExit(runDir)
  }
  try {
    await waitReady(url, child, logFile, opts.readyTimeoutMs ?? READY_TIMEOUT_MS)
  } catch (err) {
    await stop()
    throw err
  }
  return { url, version, pid: child.pid, logFile, stop }
}

async function waitReady (url: string, child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer yet'
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Strimzi bridge exited during startup (code ${String(child.exitCode)}, signal ${String(child.signalCode)}):\n${tail(readIfExists(logFile) ?? '', 40)}`)
    }
    try {
      const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2000) })
      if (res.status >= 200 && res.status < 300) return
      last = `GET /ready answered ${res.status}`
    } catch (err) {
      last = err instanceof Error ? err.message : String(err)
    }
    await sleep(250)
  }
  throw new Error(`Strimzi bridge not ready after ${timeoutMs} ms (${last}):\n${tail(readIfExists(logFile) ?? '', 40)}`)
}

async function terminate (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  child.kill('SIGTERM')
  const timer = setTimeout(() => { child.kill('SIGKILL') }, STOP_TIMEOUT_MS)
  try {
    await exited
  } finally {
    clearTimeout(timer)
  }
}

// ---------------------------------------------------------------------------------------------
// produce API

export interface StrimziRecord {
  value: unknown
  key?: unknown
  partition?: number
  /** Header values are base64 strings in the bridge's API. */
  headers?: Array<{ key: string, value: string }>
}

export type StrimziOffset =
  | { partition: number, offset: number }
  | { error_code: number, message: string }

/** One produce request as the load generator sends it (autocannon: `url + path`, method, headers, body). */
export function strimziProduceRequest (topic: string, records: StrimziRecord[]): { path: string, method: 'POST', headers: Record<string, string>, body: string } {
  return {
    path: `/topics/${encodeURIComponent(topic)}`,
    method: 'POST',
    headers: { 'content-type': STRIMZI_JSON_CONTENT_TYPE, accept: 'application/vnd.kafka.v2+json' },
    body: JSON.stringify({ records })
  }
}

/** Sends `records` through the bridge in one POST; returns the per-record offsets (or errors). */
export async function produceViaStrimzi (url: string, topic: string, records: StrimziRecord[]): Promise<StrimziOffset[]> {
  const req = strimziProduceRequest(topic, records)
  const res = await fetch(url + req.path, { method: req.method, headers: req.headers, body: req.body })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`Strimzi bridge POST ${req.path} answered ${res.status}: ${text.slice(0, 500)}`)
  const parsed = JSON.parse(text) as { offsets?: StrimziOffset[] }
  if (!Array.isArray(parsed.offsets)) throw new Error(`Strimzi bridge answered without offsets: ${text.slice(0, 500)}`)
  return parsed.offsets
}

// ---------------------------------------------------------------------------------------------
// helpers

async function run (cmd: string, args: string[], cwd: string): Promise<{ code: number | null, out: string }> {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr.on('data', (b: Buffer) => { out += b.toString() })
  return await new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', code => { resolve({ code, out }) })
  })
}

function readIfExists (file: string): string | undefined {
  try { return readFileSync(file, 'utf8') } catch { return undefined }
}

function tail (text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}
