/**
 * The Strimzi Kafka Bridge, the peer gateway of the benchmark, as a process on 127.0.0.1 (where its jars
 * and Java come from: strimzi-jars.ts), and the produce request its API takes:
 *   POST /topics/{topic}
 *   Content-Type: application/vnd.kafka.json.v2+json
 *   {"records":[{"value":<any JSON>}, ...]}            (optional "key", "partition", "headers")
 * answers 200 with {"offsets":[{"partition":p,"offset":o} | {"error_code":..,"message":..}]}.
 * Readiness and health are on a management port of their own (`GET /ready`), as in 1.x.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnToLog } from './child.js'
import { removeDirOnExit } from './cleanup.js'
import { freePorts } from './free-port.js'
import { stopAndRemove, waitHttpReady } from './http-child.js'
import { classpath, jvmFlags } from './java.js'

const STRIMZI_MAIN_CLASS = 'io.strimzi.kafka.bridge.Application'
/** Content type of the bridge's JSON embedded format (record values are JSON). */
const STRIMZI_JSON_CONTENT_TYPE = 'application/vnd.kafka.json.v2+json'
const READY_TIMEOUT_MS = 90_000
const STOP_TIMEOUT_MS = 10_000

export interface StartStrimziBridgeOptions {
  /** Kafka bootstrap list, e.g. "127.0.0.1:9092". */
  bootstrap: string
  /** The bridge's jars (STRIMZI_BRIDGE_LIBS) and the java to run them (JAVA21), as probeStrimziBridge() found them. */
  libsDir: string
  java: string
  version: string
  /** JVM heap in MiB (default 512). */
  heapMb?: number
  /** Producer settings, written as `kafka.producer.<key>` (default acks=1, as in the bridge's own sample config). */
  producerProps?: Record<string, string | number>
  /** Readiness bound in ms (default 90000: a JVM start on a loaded 2-core machine takes 30 s). */
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

/** WARN and above, plus the bridge's start lines: the stock config logs two INFO lines per request. */
const LOG4J2 = `# Written by scripts/lib/launch/strimzi-bridge.ts
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

/** The bridge's application.properties for one run. */
function strimziBridgeProperties (bootstrap: string, ports: { http: number, management: number }, producerProps: Record<string, string | number> = {}): string {
  const props: Record<string, string> = {
    'bridge.id': 'kafka-http-gateway-bench',
    'kafka.bootstrap.servers': bootstrap,
    'kafka.producer.acks': '1',
    'kafka.consumer.auto.offset.reset': 'earliest',
    'http.host': '127.0.0.1',
    'http.port': String(ports.http),
    'http.management.port': String(ports.management),
    'http.cors.enabled': 'false',
    'http.consumer.enabled': 'true',
    'http.producer.enabled': 'true'
  }
  for (const [k, v] of Object.entries(producerProps)) props[`kafka.producer.${k}`] = String(v)
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n'
}

/** Starts the bridge on 127.0.0.1 and resolves once `GET /ready` on its management port answers 2xx. */
export async function startStrimziBridge (opts: StartStrimziBridgeOptions): Promise<StrimziBridge> {
  const [http = 0, management = 0] = await freePorts(2)
  const runDir = mkdtempSync(join(tmpdir(), 'strimzi-bridge-'))
  removeDirOnExit(runDir)
  const log4j = join(runDir, 'log4j2.properties')
  writeFileSync(log4j, LOG4J2)
  const configFile = join(runDir, 'application.properties')
  writeFileSync(configFile, strimziBridgeProperties(opts.bootstrap, { http, management }, opts.producerProps))
  const logFile = join(runDir, 'bridge.log')
  const child = spawnToLog(opts.java, [
    ...jvmFlags(opts.heapMb ?? 512), '-Djava.security.egd=file:/dev/./urandom',
    `-Dvertx.cacheDirBase=${join(runDir, 'vertx-cache')}`,
    `-Dlog4j2.configurationFile=file:${log4j}`,
    ...classpath(opts.libsDir), STRIMZI_MAIN_CLASS, '--config-file', configFile
  ], { name: 'strimzi-bridge', logFile, dir: runDir })

  const stop = stopAndRemove(child, runDir, STOP_TIMEOUT_MS)
  const ready = { what: 'Strimzi bridge', url: `http://127.0.0.1:${management}/ready`, timeoutMs: opts.readyTimeoutMs ?? READY_TIMEOUT_MS, logFile }
  await waitHttpReady(child, { ...ready, ready: status => status >= 200 && status < 300 }, stop)
  return { url: `http://127.0.0.1:${http}`, version: opts.version, pid: child.pid, logFile, stop }
}

export interface StrimziRecord {
  value: unknown
  key?: unknown
  partition?: number
  /** Header values are base64 strings in the bridge's API. */
  headers?: Array<{ key: string, value: string }>
}

/** One produce request as the load generator sends it (autocannon: `url + path`, method, headers, body). */
export function strimziProduceRequest (topic: string, records: StrimziRecord[]): { path: string, method: 'POST', headers: Record<string, string>, body: string } {
  return {
    path: `/topics/${encodeURIComponent(topic)}`,
    method: 'POST',
    headers: { 'content-type': STRIMZI_JSON_CONTENT_TYPE, accept: 'application/vnd.kafka.v2+json' },
    body: JSON.stringify({ records })
  }
}
