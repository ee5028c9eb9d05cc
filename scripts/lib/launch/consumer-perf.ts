/**
 * Apache Kafka's ConsumerPerformance (kafka-tool.ts): one consumer in a fresh group reading `messages`
 * records from the earliest offset; its CSV line is parsed.
 */
import { randomUUID } from 'node:crypto'
import { lineFields, NUM, positiveInt, runKafkaTool, type KafkaToolOptions } from './kafka-tool.js'

export interface ConsumerPerformanceOptions extends KafkaToolOptions {
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

const CONSUMER_FIELDS = ['dataMb', 'mbPerSec', 'messages', 'messagesPerSec', 'rebalanceMs', 'fetchMs', 'fetchMbPerSec', 'fetchMessagesPerSec'] as const

/** Parses ConsumerPerformance output (its CSV data line). */
export function parseConsumerPerformance (raw: string, wallMs = 0): ConsumerPerformanceResult {
  return { ...lineFields(raw, CONSUMER_CSV, 'first', 'ConsumerPerformance result line', CONSUMER_FIELDS), wallMs, raw }
}

/** Runs Apache Kafka's ConsumerPerformance once; throws if it read fewer than `messages` records. */
export async function runConsumerPerformance (opts: ConsumerPerformanceOptions): Promise<ConsumerPerformanceResult> {
  return await runKafkaTool({
    name: 'ConsumerPerformance',
    args: consumerPerformanceArgs(opts),
    parse: parseConsumerPerformance,
    problem: r => r.messages >= opts.messages ? undefined : `read ${r.messages} of ${opts.messages} records (idle timeout)`
  }, opts)
}
