/**
 * Apache Kafka's ConsumerPerformance (kafka-tool.ts): one consumer in a fresh group reading `messages`
 * records from the earliest offset; its CSV line is parsed.
 */
import { randomUUID } from 'node:crypto'
import { NUM, positiveInt, runKafkaTool, type KafkaToolOptions } from './kafka-tool.js'
import { tail } from './text.js'

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
  const { out, wallMs } = await runKafkaTool('ConsumerPerformance', 'org.apache.kafka.tools.ConsumerPerformance', consumerPerformanceArgs(opts), opts)
  const result = parseConsumerPerformance(out, wallMs)
  if (result.messages < opts.messages) {
    throw new Error(`ConsumerPerformance read ${result.messages} of ${opts.messages} records (idle timeout):\n${tail(out, 30)}`)
  }
  return result
}
