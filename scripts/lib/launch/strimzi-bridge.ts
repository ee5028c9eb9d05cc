/**
 * The Strimzi Kafka Bridge, the peer gateway of the benchmark, as a process on 127.0.0.1 (its jars and why
 * they are missing here: strimzi-jars.ts), and the produce request its API takes:
 *   POST /topics/{topic}
 *   Content-Type: application/vnd.kafka.json.v2+json
 *   {"records":[{"value":<any JSON>}, ...]}            (optional "key", "partition", "headers")
 * answers 200 with {"offsets":[{"partition":p,"offset":o} | {"error_code":..,"message":..}]}.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeExit, hasExited, spawnToLog, stopChild } from './child.js'
import { keepDirOnExit, removeDirOnExit } from './cleanup.js'
import { freePort } from './free-port.js'
import { classpath, jvmFlags } from './java.js'
import { ensureStrimziBridgeJars, strimziCacheDir, STRIMZI_BRIDGE_VERSION, type StrimziJarsOptions } from './strimzi-jars.js'
import { fileTail, readIfExists } from './text.js'
import { waitReady } from './wait.js'

const STRIMZI_MAIN_CLASS = 'io.strimzi.kafka.bridge.Application'
/** Content type of the bridge's JSON embedded format (record values are JSON). */
const STRIMZI_JSON_CONTENT_TYPE = 'application/vnd.kafka.json.v2+json'
const READY_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 10_000

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

const LOG4J2 = `# Written by scripts/lib/launch/strimzi-bridge.ts: WARN and above, plus the bridge's start lines.
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
function strimziBridgeProperties (bootstrap: string, port: number, producerProps: Record<string, string | number> = {}): string {
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

/** Writes the bridge's log4j2 config (once per version) and this run's properties; returns their paths. */
function writeConfig (version: string, runDir: string, opts: StartStrimziBridgeOptions, port: number): { log4j: string, configFile: string } {
  const cache = strimziCacheDir(version)
  mkdirSync(cache, { recursive: true })
  const log4j = join(cache, 'log4j2.properties')
  if (readIfExists(log4j) !== LOG4J2) writeFileSync(log4j, LOG4J2)
  const configFile = join(runDir, 'application.properties')
  writeFileSync(configFile, strimziBridgeProperties(opts.bootstrap, port, opts.producerProps))
  return { log4j, configFile }
}

/**
 * Starts the bridge on 127.0.0.1 and resolves once `GET /ready` answers 2xx.
 * Throws StrimziBridgeUnavailableError when the jars cannot be had (the case on these machines).
 */
export async function startStrimziBridge (opts: StartStrimziBridgeOptions): Promise<StrimziBridge> {
  const version = opts.version ?? STRIMZI_BRIDGE_VERSION
  const libs = await ensureStrimziBridgeJars(opts)
  const port = opts.port ?? await freePort()
  const runDir = mkdtempSync(join(tmpdir(), 'strimzi-bridge-'))
  removeDirOnExit(runDir)
  const { log4j, configFile } = writeConfig(version, runDir, opts, port)
  const logFile = join(runDir, 'bridge.log')
  const child = spawnToLog('java', [
    ...jvmFlags(opts.heapMb ?? 512), '-Djava.security.egd=file:/dev/./urandom',
    `-Dvertx.cacheDirBase=${join(runDir, 'vertx-cache')}`,
    `-Dlog4j2.configurationFile=file:${log4j}`,
    ...classpath(libs), STRIMZI_MAIN_CLASS, '--config-file', configFile
  ], { name: 'strimzi-bridge', logFile, dir: runDir })

  const url = `http://127.0.0.1:${String(port)}`
  const stop = async (): Promise<void> => {
    await stopChild(child, 'SIGTERM', STOP_TIMEOUT_MS)
    rmSync(runDir, { recursive: true, force: true })
    keepDirOnExit(runDir)
  }
  try {
    await waitReady({
      what: 'Strimzi bridge',
      gone: () => hasExited(child) ? describeExit({ code: child.exitCode, signal: child.signalCode }) : undefined,
      probe: async () => {
        try {
          const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2000) })
          return (res.status >= 200 && res.status < 300) || `GET /ready answered ${res.status}`
        } catch (err) {
          return err instanceof Error ? err.message : String(err)
        }
      },
      timeoutMs: opts.readyTimeoutMs ?? READY_TIMEOUT_MS,
      everyMs: 250,
      details: () => fileTail(logFile)
    })
  } catch (err) {
    await stop()
    throw err
  }
  return { url, version, pid: child.pid, logFile, stop }
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
