/**
 * One measured produce run, of each kind the benchmarks compare:
 * - `gatewayProduceRun`: POST /messages from N connections (autocannon, in its own process), one message
 *   per request or a batch (`messages: [...]`) of `messagesPerRequest`;
 * - `directSingleRun`: kafkajs `producer.send` of one message, N sends in flight;
 * - `directBatchRun`: kafkajs `producer.sendBatch` of `batchSize` messages, N in flight;
 * - `strimziProduceRun`: the gateway's load through the Strimzi bridge;
 * - `hooksProduceRun`: the same through @platformatic/kafka-hooks' route (one raw value per request).
 * All with acks -1 (the gateway's default; kafka-hooks' producer has acks 1 and no setting for it), the
 * same 1 KiB text value, to one topic.
 * Throughput counts acknowledged messages only; latency is per request (per send for kafkajs).
 */
import { randomUUID } from 'node:crypto'
import type kafkajs from 'kafkajs'
import { autocannonInChild, type AutocannonResult } from '../../scripts/lib/launch/autocannon.js'
import { strimziProduceRequest } from '../../scripts/lib/launch/strimzi-bridge.js'
import { percentile } from './util.js'

export interface Figures {
  messagesPerSec: number
  /** Request latency (one POST, or one kafkajs send/sendBatch). */
  p50Ms: number
  p99Ms: number
  /** Messages acknowledged. */
  messages: number
  /** Requests that failed (non-2xx, errors, timeouts). */
  failures: number
  /** Requests per HTTP status, for the HTTP contenders (a 503 is the gateway shedding load). */
  statusCodes?: Record<string, number>
  durationS: number
}

/** A text value of `bytes` characters (the JSON body is a little larger: topic and quoting). */
export function benchValue (bytes: number): string {
  return 'x'.repeat(bytes)
}

export interface GatewayRunOptions {
  url: string
  topic: string
  seconds: number
  connections: number
  value: string
  /** 1 (default): the single form `{topic, value}`; more: the batch form `{topic, messages: [...]}`. */
  messagesPerRequest?: number
}

export async function gatewayProduceRun (o: GatewayRunOptions): Promise<{ figures: Figures, raw: AutocannonResult }> {
  const per = o.messagesPerRequest ?? 1
  const body = per === 1
    ? JSON.stringify({ topic: o.topic, value: o.value })
    : JSON.stringify({ topic: o.topic, messages: Array.from({ length: per }, () => ({ value: o.value })) })
  const raw = await autocannonInChild({
    url: `${o.url}/messages`,
    method: 'POST',
    connections: o.connections,
    duration: o.seconds,
    timeout: 30,
    headers: { 'content-type': 'application/json' },
    body
  })
  return { raw, figures: autocannonFigures(raw, per) }
}

/** The same load through the Strimzi bridge's produce API (`POST /topics/{topic}`), `messagesPerRequest` records per request. */
export async function strimziProduceRun (o: GatewayRunOptions): Promise<Figures> {
  const per = o.messagesPerRequest ?? 1
  const req = strimziProduceRequest(o.topic, Array.from({ length: per }, () => ({ value: o.value })))
  const raw = await autocannonInChild({ url: o.url + req.path, method: 'POST', connections: o.connections, duration: o.seconds, timeout: 30, headers: req.headers, body: req.body })
  return autocannonFigures(raw, per)
}

/** The same load through kafka-hooks' `POST /topics/{topic}`: the request body is the record's value (it answers 202). */
export async function hooksProduceRun (o: Omit<GatewayRunOptions, 'messagesPerRequest'>): Promise<Figures> {
  const raw = await autocannonInChild({
    url: `${o.url}/topics/${encodeURIComponent(o.topic)}`,
    method: 'POST',
    connections: o.connections,
    duration: o.seconds,
    timeout: 30,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    body: o.value
  })
  return autocannonFigures(raw, 1)
}

/** Throughput counts acknowledged messages (2xx × messages per request); latency is per request. */
function autocannonFigures (raw: AutocannonResult, per: number): Figures {
  const ok = raw['2xx']
  return {
    messagesPerSec: (ok * per) / raw.duration,
    p50Ms: raw.latency.p50,
    p99Ms: raw.latency.p99,
    messages: ok * per,
    failures: raw.non2xx + raw.errors + raw.timeouts,
    statusCodes: statusCounts(raw),
    durationS: raw.duration
  }
}

/** autocannon's per-status counts as { "200": n, "503": m }. */
function statusCounts (raw: AutocannonResult): Record<string, number> {
  return Object.fromEntries(Object.entries(raw.statusCodeStats ?? {}).map(([code, v]) => [code, v.count]))
}

const DIRECT_HEADERS = { 'content-type': 'text/plain; charset=utf-8', departure: 'bench-direct' }

/** `inFlight` loops, each sending until the deadline; `send` returns the messages one call acknowledged. */
async function closedLoop (seconds: number, inFlight: number, send: () => Promise<number>): Promise<Figures> {
  const latencies: number[] = []
  let messages = 0
  let failures = 0
  let firstError: string | undefined
  const started = performance.now()
  const deadline = started + seconds * 1000
  async function loop (): Promise<void> {
    while (performance.now() < deadline) {
      const t0 = performance.now()
      try {
        const n = await send() // not `messages += await send()`: that reads `messages` before the await and loses concurrent updates
        messages += n
        latencies.push(performance.now() - t0)
      } catch (err) {
        if (failures === 0) firstError = err instanceof Error ? err.message : String(err)
        failures++
      }
    }
  }
  await Promise.all(Array.from({ length: inFlight }, loop))
  if (firstError !== undefined) console.error(`# kafkajs: ${failures} failed sends; the first: ${firstError}`)
  const durationS = (performance.now() - started) / 1000
  const sorted = Float64Array.from(latencies).sort()
  return {
    messagesPerSec: messages / durationS,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    messages,
    failures,
    durationS
  }
}

/** kafkajs `send` of one message, `inFlight` at a time (the headers the gateway writes, for a like-for-like record). */
export async function directSingleRun (producer: kafkajs.Producer, topic: string, seconds: number, inFlight: number, value: string): Promise<Figures> {
  return await closedLoop(seconds, inFlight, async () => {
    await producer.send({ topic, acks: -1, messages: [{ value, headers: { ...DIRECT_HEADERS, 'x-request-id': randomUUID() } }] })
    return 1
  })
}

/** kafkajs `sendBatch` of `batchSize` messages, `inFlight` at a time. */
export async function directBatchRun (producer: kafkajs.Producer, topic: string, seconds: number, inFlight: number, value: string, batchSize: number): Promise<Figures> {
  return await closedLoop(seconds, inFlight, async () => {
    const rid = randomUUID()
    const messages = Array.from({ length: batchSize }, () => ({ value, headers: { ...DIRECT_HEADERS, 'x-request-id': rid } }))
    await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages }] })
    return batchSize
  })
}
