/**
 * The gateway under test, as its own process: built once with `tsc -p tsconfig.build.json` (what
 * `npm run build` does) and run as `node dist/src/server.js`, so neither tsx's on-the-fly compile nor
 * the benchmark's own work (load generator, kafkajs references, receiver) shares its process.
 *
 * Also: its resident memory (from /proc/<pid>/status, sampled while it runs), and its Prometheus
 * metrics (a histogram's quantile, read the way Prometheus' histogram_quantile does).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { freePorts } from '../../scripts/local-kafka.js'
import { sleep } from './util.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const TSC = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))
export const BUILT_SERVER = fileURLToPath(new URL('../../dist/src/server.js', import.meta.url))
export const SOURCE_SERVER = fileURLToPath(new URL('../../src/server.ts', import.meta.url))

/** How the gateway is run: the compiled build (default) or the TypeScript source through tsx. */
export type GatewayMode = 'build' | 'tsx'

/**
 * `tsc -p tsconfig.build.json` into dist/ (npm run build). Resolves with the server entry and tsc's
 * complaints, if any: tsc emits JavaScript despite type errors, so a tree with type errors (a colleague's
 * edit in progress) still runs, and the results file says the build was not clean. Throws when nothing
 * was emitted, or on type errors when BENCH_STRICT_BUILD=1.
 */
export async function buildGateway (): Promise<{ entry: string, typeErrors: string | undefined }> {
  const started = Date.now()
  const child = spawn(process.execPath, [TSC, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr.on('data', (b: Buffer) => { out += b.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  const emitted = existsSync(BUILT_SERVER) && statSync(BUILT_SERVER).mtimeMs >= started - 1000
  if (code === 0 && emitted) return { entry: BUILT_SERVER, typeErrors: undefined }
  if (!emitted || process.env.BENCH_STRICT_BUILD === '1') throw new Error(`tsc -p tsconfig.build.json failed (exit ${String(code)}):\n${out}`)
  return { entry: BUILT_SERVER, typeErrors: out.trim() }
}

export interface GatewayProcess {
  readonly url: string
  readonly pid: number
  readonly clientId: string
  readonly child: ChildProcess
  /** Resident set size now, in bytes (VmRSS). */
  rssBytes: () => number
  /** GET /metrics as text. */
  metrics: () => Promise<string>
  /** SIGTERM (graceful: leaves groups, removes its registry entry), SIGKILL after 15 s. Idempotent. */
  stop: () => Promise<void>
}

export interface StartGatewayOptions {
  mode: GatewayMode
  /** Gateway configuration (KAFKA_BROKERS, REDIS_URL, KAFKA_CLIENT_ID, REGISTRY_KEY...). PORT and HOST are set here. */
  env: Record<string, string>
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[]
}

/** Starts the gateway and resolves once GET /health/ready answers 2xx (Kafka and Redis connected, consumers started). */
export async function startGateway (opts: StartGatewayOptions): Promise<GatewayProcess> {
  const [port] = await freePorts(1)
  const entry = opts.mode === 'build' ? [BUILT_SERVER] : ['--import', 'tsx', SOURCE_SERVER]
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...entry], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'inherit', 'inherit']
  })
  const killOnExit = (): void => { try { child.kill('SIGKILL') } catch { /* gone */ } }
  process.once('exit', killOnExit)
  const url = `http://127.0.0.1:${String(port)}`
  let stopped: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit')
        child.kill('SIGTERM')
        const timer = setTimeout(() => { child.kill('SIGKILL') }, 15_000)
        await exited
        clearTimeout(timer)
      }
      process.removeListener('exit', killOnExit)
    })()
    await stopped
  }

  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop()
      throw new Error(`gateway exited during startup (code ${String(child.exitCode)}, signal ${String(child.signalCode)})`)
    }
    try {
      if ((await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) })).ok) break
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop()
      throw new Error('gateway not ready within 60 s')
    }
    await sleep(200)
  }
  const pid = child.pid
  if (pid === undefined) throw new Error('gateway has no pid')
  return {
    url,
    pid,
    clientId: opts.env.KAFKA_CLIENT_ID ?? '',
    child,
    rssBytes: () => processRssBytes(pid),
    metrics: async () => {
      const res = await fetch(`${url}/metrics`)
      if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`)
      return await res.text()
    },
    stop
  }
}

/** VmRSS of a process, in bytes (Linux /proc); 0 once the process is gone. */
export function processRssBytes (pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? 0 : Number(m[1]) * 1024
  } catch {
    return 0
  }
}

/** Samples a process's RSS every `intervalMs` until stopped; `stop()` returns the peak and the samples. */
export function sampleRss (pid: number, intervalMs = 250): { stop: () => { peakBytes: number, samples: number[] } } {
  const samples: number[] = [processRssBytes(pid)]
  const timer = setInterval(() => { samples.push(processRssBytes(pid)) }, intervalMs)
  return {
    stop: () => {
      clearInterval(timer)
      samples.push(processRssBytes(pid))
      return { peakBytes: Math.max(...samples), samples }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Prometheus text format

export interface HistogramSnapshot {
  /** Cumulative counts per upper bound, ascending, +Inf last. */
  buckets: Array<{ le: number, count: number }>
  count: number
  sum: number
}

/** One histogram series (the one whose labels include every `labels` pair) from Prometheus text; undefined when absent. */
export function parseHistogram (text: string, name: string, labels: Record<string, string> = {}): HistogramSnapshot | undefined {
  const buckets: Array<{ le: number, count: number }> = []
  let count: number | undefined
  let sum = 0
  const want = Object.entries(labels)
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line)
    if (m === null) continue
    const [, metric = '', labelText = '', value = ''] = m
    const got = Object.fromEntries([...labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(x => [x[1], x[2]]))
    if (!want.every(([k, v]) => got[k] === v)) continue
    if (metric === `${name}_bucket`) buckets.push({ le: got.le === '+Inf' ? Infinity : Number(got.le), count: Number(value) })
    else if (metric === `${name}_count`) count = Number(value)
    else if (metric === `${name}_sum`) sum = Number(value)
  }
  if (count === undefined || buckets.length === 0) return undefined
  buckets.sort((a, b) => a.le - b.le)
  return { buckets, count, sum }
}

/** The counts of `after` minus `before` (the observations made between two scrapes). */
export function histogramDelta (after: HistogramSnapshot, before: HistogramSnapshot | undefined): HistogramSnapshot {
  if (before === undefined) return after
  return {
    buckets: after.buckets.map((b, i) => ({ le: b.le, count: b.count - (before.buckets[i]?.count ?? 0) })),
    count: after.count - before.count,
    sum: after.sum - before.sum
  }
}

/**
 * The q-quantile (0..1) of a histogram, interpolated linearly inside its bucket (Prometheus'
 * histogram_quantile): only as precise as the bucket bounds. Undefined without observations; the
 * highest finite bound when the quantile falls in +Inf.
 */
export function histogramQuantile (h: HistogramSnapshot, q: number): number | undefined {
  if (h.count <= 0) return undefined
  const rank = q * h.count
  let prevLe = 0
  let prevCount = 0
  for (const b of h.buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe
      const inBucket = b.count - prevCount
      return inBucket <= 0 ? b.le : prevLe + (b.le - prevLe) * ((rank - prevCount) / inBucket)
    }
    prevLe = b.le
    prevCount = b.count
  }
  return prevLe
}
