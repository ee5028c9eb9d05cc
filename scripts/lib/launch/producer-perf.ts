/**
 * Apache Kafka's ProducerPerformance (what bin/kafka-producer-perf-test.sh runs; kafka-tool.ts): one Java
 * producer sending `records` random `recordSize`-byte records as fast as it can (`--throughput -1`); its
 * final summary line is parsed: "N records sent, X records/sec (Y MB/sec), Z ms avg latency, W ms max
 * latency, A ms 50th, B ms 95th, C ms 99th, D ms 99.9th."
 * Latency there is send-to-ack per record. With no throttle the producer keeps its 32 MiB buffer full, so
 * those latencies are queueing time at saturation, not what one request costs: compare its records/s, not
 * its latency, with an HTTP gateway driven by a fixed number of connections.
 */
import { lineFields, NUM, positiveInt, runKafkaTool, type KafkaToolOptions } from './kafka-tool.js'

export type Acks = -1 | 0 | 1 | 'all'

export interface ProducerPerformanceOptions extends KafkaToolOptions {
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

const PRODUCER_SUMMARY = new RegExp(
  String.raw`(\d+) records sent, ${NUM} records/sec \(${NUM} MB/sec\), ${NUM} ms avg latency, ${NUM} ms max latency, ` +
  String.raw`${NUM} ms 50th, ${NUM} ms 95th, ${NUM} ms 99th, ${NUM} ms 99\.9th`)

const PRODUCER_FIELDS = ['records', 'recordsPerSec', 'mbPerSec', 'avgLatencyMs', 'maxLatencyMs', 'p50Ms', 'p95Ms', 'p99Ms', 'p999Ms'] as const

/** Parses ProducerPerformance output (its last summary line, the one with percentiles). */
export function parseProducerPerformance (raw: string, wallMs = 0): ProducerPerformanceResult {
  return { ...lineFields(raw, PRODUCER_SUMMARY, 'last', 'ProducerPerformance summary line', PRODUCER_FIELDS), wallMs, raw }
}

/** Runs Apache Kafka's ProducerPerformance once and returns its summary. */
export async function runProducerPerformance (opts: ProducerPerformanceOptions): Promise<ProducerPerformanceResult> {
  return await runKafkaTool({
    name: 'ProducerPerformance',
    args: producerPerformanceArgs(opts),
    parse: parseProducerPerformance,
    problem: r => r.records === opts.records ? undefined : `sent ${r.records} of ${opts.records} records`
  }, opts)
}
