/**
 * Apache Kafka's own performance tools, run from the same 3.9.1 jars as the broker
 * (`org.apache.kafka:kafka-tools`, fetched by `ensureKafkaJars()` in scripts/local-kafka.ts):
 * the physical-limit references the benchmark reports the gateway against.
 *
 * - `runProducerPerformance()` runs `org.apache.kafka.tools.ProducerPerformance` (what
 *   bin/kafka-producer-perf-test.sh runs): one Java producer sending `records` random
 *   `recordSize`-byte records as fast as it can (`--throughput -1`), and parses its final summary
 *   line: "N records sent, X records/sec (Y MB/sec), Z ms avg latency, W ms max latency,
 *   A ms 50th, B ms 95th, C ms 99th, D ms 99.9th."
 *   Latency there is send-to-ack per record. With no throttle the producer keeps its 32 MiB buffer
 *   full, so those latencies are queueing time at saturation, not what one request costs: compare
 *   its records/s, not its latency, with an HTTP gateway driven by a fixed number of connections.
 * - `runConsumerPerformance()` runs `org.apache.kafka.tools.ConsumerPerformance` (one consumer in a
 *   fresh group reading `messages` records from the earliest offset) and parses its CSV line.
 *
 * Both run in a small JVM (-Xmx256m by default), are SIGKILLed if they outlive `timeoutMs` or the
 * Node process, and throw with the tool's last output lines when the summary is missing.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { ensureKafkaJars, kafkaLog4jFile } from '../../scripts/local-kafka.js'
import { killOnExit } from '../../scripts/lib/exit-cleanup.js'

const PRODUCER_MAIN = 'org.apache.kafka.tools.ProducerPerformance'
const CONSUMER_MAIN = 'org.apache.kafka.tools.ConsumerPerformance'
const DEFAULT_HEAP_MB = 256
const DEFAULT_TIMEOUT_MS = 10 * 60_000

export type Acks = -1 | 0 | 1 | 'all'

export interface ProducerPerformanceOptions {
  /** Comma-separated bootstrap list, e.g. "127.0.0.1:9092". */
  bootstrap: string
  /** An existing topic (the tool does not create it; auto-creation is off on our brokers). */
  topic: string
  /** How many records to send (`--num-records`). */
  records: number
  /** Bytes per record (`--record-size`; random upper-case letters). */
  recordSize: number
  /** Producer `acks`. */
  acks: Acks
  /** Producer `batch.size` in bytes (Kafka default 16384). */
  batchSize?: number
  /** Producer `linger.ms` (Kafka 3.9 default 0). */
  lingerMs?: number
  /** Records/s cap; -1 (default) sends as fast as possible. */
  throughput?: number
  /** More producer properties (`compression.type`, `buffer.memory`...), after the ones above. */
  producerProps?: Record<string, string | number>
  /** JVM heap in MiB (default 256). */
  heapMb?: number
  /** Directory of the Kafka jars (default: `ensureKafkaJars()`). */
  libsDir?: string
  /** SIGKILL the tool after this long (default 10 min). */
  timeoutMs?: number
}

export interface ProducerPerformanceResult {
  /** Records the summary says were sent. */
  records: number
  recordsPerSec: number
  mbPerSec: number
  avgLatencyMs: number
  maxLatencyMs: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
  p999Ms: number
  /** Wall time of the JVM, start to exit (includes JVM start and metadata fetch). */
  wallMs: number
  /** The tool's whole stdout and stderr. */
  raw: string
}

export interface ConsumerPerformanceOptions {
  bootstrap: string
  topic: string
  /** How many records to read (`--messages`); the tool stops there. */
  messages: number
  /** Consumer group (default: a fresh random one, so it reads from the earliest offset). */
  group?: string
  /** Give up when no record arrives for this long (`--timeout`, default 30000 ms). */
  idleTimeoutMs?: number
  /** `--fetch-size` in bytes (default 1 MiB). */
  fetchSize?: number
  heapMb?: number
  libsDir?: string
  timeoutMs?: number
}

export interface ConsumerPerformanceResult {
  /** Records read. */
  messages: number
  /** Records/s over the whole run, group join included (`nMsg.sec`). */
  messagesPerSec: number
  /** Records/s over the fetch phase only, group join excluded (`fetch.nMsg.sec`). */
  fetchMessagesPerSec: number
  mbPerSec: number
  fetchMbPerSec: number
  dataMb: number
  /** Time spent joining the group (`rebalance.time.ms`). */
  rebalanceMs: number
  /** Time spent fetching (`fetch.time.ms`). */
  fetchMs: number
  wallMs: number
  raw: string
}

// ---------------------------------------------------------------------------------------------
// producer

/** The ProducerPerformance command line for `opts` (without the `java` and JVM flags). */
export function producerPerformanceArgs (opts: ProducerPerformanceOptions): string[] {
  positiveInt('records', opts.records)
  positiveInt('recordSize', opts.recordSize)
  const props: Record<string, string> = {
    'bootstrap.servers': opts.bootstrap,
    acks: String(opts.acks),
    'client.id': 'apache-producer-perf'
  }
  if (opts.batchSize !== undefined) props['batch.size'] = String(opts.batchSize)
  if (opts.lingerMs !== undefined) props['linger.ms'] = String(opts.lingerMs)
  for (const [k, v] of Object.entries(opts.producerProps ?? {})) props[k] = String(v)
  return [
    '--topic', opts.topic,
    '--num-records', String(opts.records),
    '--record-size', String(opts.recordSize),
    '--throughput', String(opts.throughput ?? -1),
    '--producer-props', ...Object.entries(props).map(([k, v]) => `${k}=${v}`)
  ]
}

const NUM = String.raw`([\d.]+)`
const PRODUCER_SUMMARY = new RegExp(
  String.raw`(\d+) records sent, ${NUM} records/sec \(${NUM} MB/sec\), ${NUM} ms avg latency, ${NUM} ms max latency, ` +
  String.raw`${NUM} ms 50th, ${NUM} ms 95th, ${NUM} ms 99th, ${NUM} ms 99\.9th`)

/** Parses ProducerPerformance output (its last summary line, the one with percentiles). */
export function parseProducerPerformance (raw: string, wallMs = 0): ProducerPerformanceResult {
  const lines = raw.split('\n').filter(l => PRODUCER_SUMMARY.test(l))
  const last = lines[lines.length - 1]
  const m = last === undefined ? null : PRODUCER_SUMMARY.exec(last)
  if (m === null) throw new Error(`no ProducerPerformance summary line in the output:\n${tail(raw, 30)}`)
  const n = (i: number): number => Number(m[i])
  return {
    records: n(1),
    recordsPerSec: n(2),
    mbPerSec: n(3),
    avgLatencyMs: n(4),
    maxLatencyMs: n(5),
    p50Ms: n(6),
    p95Ms: n(7),
    p99Ms: n(8),
    p999Ms: n(9),
    wallMs,
    raw
  }
}

/** Runs Apache Kafka's ProducerPerformance once and returns its summary. */
export async function runProducerPerformance (opts: ProducerPerformanceOptions): Promise<ProducerPerformanceResult> {
  const libs = opts.libsDir ?? await ensureKafkaJars()
  const started = Date.now()
  const { code, signal, out } = await runJava(libs, PRODUCER_MAIN, producerPerformanceArgs(opts), opts.heapMb, opts.timeoutMs)
  const wallMs = Date.now() - started
  if (code !== 0) {
    throw new Error(`ProducerPerformance exited with ${code === null ? `signal ${String(signal)}` : `code ${code}`}:\n${tail(out, 30)}`)
  }
  const result = parseProducerPerformance(out, wallMs)
  if (result.records !== opts.records) {
    throw new Error(`ProducerPerformance sent ${result.records} of ${opts.records} records:\n${tail(out, 30)}`)
  }
  return result
}

// ---------------------------------------------------------------------------------------------
// consumer

/** The ConsumerPerformance command line for `opts`. */
export function consumerPerformanceArgs (opts: ConsumerPerformanceOptions): string[] {
  positiveInt('messages', opts.messages)
  const args = [
    '--bootstrap-server', opts.bootstrap,
    '--topic', opts.topic,
    '--messages', String(opts.messages),
    '--group', opts.group ?? `apache-consumer-perf-${randomUUID()}`,
    '--timeout', String(opts.idleTimeoutMs ?? 30_000),
    '--hide-header'
  ]
  if (opts.fetchSize !== undefined) args.push('--fetch-size', String(opts.fetchSize))
  return args
}

// start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
// rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
const CONSUMER_CSV = new RegExp(
  String.raw`^[^,]+, [^,]+, ${NUM}, ${NUM}, (\d+), ${NUM}, (-?\d+), (-?\d+), ${NUM}, ${NUM}\s*$`)

/** Parses ConsumerPerformance output (its CSV data line). */
export function parseConsumerPerformance (raw: string, wallMs = 0): ConsumerPerformanceResult {
  const line = raw.split('\n').find(l => CONSUMER_CSV.test(l))
  const m = line === undefined ? null : CONSUMER_CSV.exec(line)
  if (m === null) throw new Error(`no ConsumerPerformance result line in the output:\n${tail(raw, 30)}`)
  const n = (i: number): number => Number(m[i])
  return {
    dataMb: n(1),
    mbPerSec: n(2),
    messages: n(3),
    messagesPerSec: n(4),
    rebalanceMs: n(5),
    fetchMs: n(6),
    fetchMbPerSec: n(7),
    fetchMessagesPerSec: n(8),
    wallMs,
    raw
  }
}

/** Runs Apache Kafka's ConsumerPerformance once; throws if it read fewer than `messages` records. */
export async function runConsumerPerformance (opts: ConsumerPerformanceOptions): Promise<ConsumerPerformanceResult> {
  const libs = opts.libsDir ?? await ensureKafkaJars()
  const started = Date.now()
  const { code, signal, out } = await runJava(libs, CONSUMER_MAIN, consumerPerformanceArgs(opts), opts.heapMb, opts.timeoutMs)
  const wallMs = Date.now() - started
  if (code !== 0) {
    throw new Error(`ConsumerPerformance exited with ${code === null ? `signal ${String(signal)}` : `code ${code}`}:\n${tail(out, 30)}`)
  }
  const result = parseConsumerPerformance(out, wallMs)
  if (result.messages < opts.messages) {
    throw new Error(`ConsumerPerformance read ${result.messages} of ${opts.messages} records (idle timeout):\n${tail(out, 30)}`)
  }
  return result
}

// ---------------------------------------------------------------------------------------------
// JVM


interface JavaRun { code: number | null, signal: NodeJS.Signals | null, out: string }

async function runJava (libs: string, main: string, args: string[], heapMb = DEFAULT_HEAP_MB, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<JavaRun> {
  const jvm = [
    `-Xms${heapMb}m`, `-Xmx${heapMb}m`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20',
    '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${kafkaLog4jFile()}`,
    '-cp', `${libs}/*`
  ]
  const child = spawn('java', [...jvm, main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  killOnExit(child)
  let out = ''
  child.stdout.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr.on('data', (b: Buffer) => { out += b.toString() })
  const timer = setTimeout(() => {
    out += `\n[apache-perf] killed after ${timeoutMs} ms\n`
    child.kill('SIGKILL')
  }, timeoutMs)
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (c, s) => { resolve([c, s]) })
    })
    return { code, signal, out }
  } finally {
    clearTimeout(timer)
  }
}

function positiveInt (name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer (got ${String(v)})`)
}

function tail (text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}
