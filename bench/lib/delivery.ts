/**
 * The delivery benchmark's pieces: filling a topic, one gateway delivery run (a consumer group defined
 * through POST /consumer-groups, delivering to the bench receiver), and the kafkajs references, each
 * in a child process of its own (./bare-consumer-child.ts).
 */
import { fileURLToPath } from 'node:url'
import type kafkajs from 'kafkajs'
import { exitWithin, forkTsx } from '../../scripts/lib/launch/child.js'
import type { GatewayProcess } from '../../scripts/lib/launch/gateway.js'
import type { BenchReceiver } from './receiver.js'
import type { ChildCommand, ChildResult, RunCommand } from './bare-consumer-child.js'
import { gatewayMetrics, histogramDelta, histogramQuantile, parseHistogram, type HistogramSnapshot } from './histogram.js'
import { sleep } from './util.js'

export const FETCHED_AT_HEADER = 'x-fetched-at'
const DELIVERY_HISTOGRAM = 'gateway_webhook_delivery_latency_seconds'

/** The group's fetch → 2xx histogram on the gateway now (undefined before its first observation). */
export async function deliveryHistogram (gateway: GatewayProcess, groupId: string): Promise<HistogramSnapshot | undefined> {
  return parseHistogram(await gatewayMetrics(gateway.url), DELIVERY_HISTOGRAM, { group: groupId })
}

/** The group's fetch → 2xx observations since `before`; undefined when it has none. */
export async function deliveryHistogramSince (gateway: GatewayProcess, groupId: string, before: HistogramSnapshot | undefined): Promise<HistogramSnapshot | undefined> {
  const after = await deliveryHistogram(gateway, groupId)
  return after === undefined ? undefined : histogramDelta(after, before)
}

/**
 * Writes `count` records of `value` to `topic`, spread evenly over `partitions` (record i to partition
 * i mod partitions), with the headers the gateway writes for a text value; kafkajs sendBatch of 1000,
 * 4 requests in flight, acks -1.
 */
export async function fillTopic (producer: kafkajs.Producer, topic: string, count: number, partitions: number, value: string): Promise<void> {
  const BATCH = 1000
  let next = 0
  async function loop (): Promise<void> {
    while (next < count) {
      const from = next
      const n = Math.min(BATCH, count - from)
      next += n
      const messages = Array.from({ length: n }, (_, i) => ({
        partition: (from + i) % partitions,
        value,
        headers: { 'content-type': 'text/plain; charset=utf-8', departure: 'bench-fill' }
      }))
      await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages }] })
    }
  }
  await Promise.all(Array.from({ length: 4 }, loop))
}

export interface DeliveryFigures {
  /** Records delivered (2xx) per second, first delivery to last, at the receiver (or read, for the bare consumer). */
  messagesPerSec: number
  /** p99 of fetch-to-2xx in ms, when the contender exposes its fetch time; undefined otherwise. */
  p99Ms: number | undefined
  p50Ms: number | undefined
  /** Where the latency comes from. */
  latencySource: string
  /** Deliveries counted (may exceed the records in the topic: redeliveries). */
  count: number
  /** Start (POST /consumer-groups, consumer.run) to the first delivery: group join and first fetch. */
  joinMs: number
  spanS: number
  failures: number
}

/** Waits until the receiver counted `expected` records; throws when nothing arrives for `stallMs`. */
export async function waitForCount (receiver: BenchReceiver, expected: number, stallMs: number, what: string): Promise<void> {
  let last = -1
  let lastChange = Date.now()
  while (receiver.count() < expected) {
    const c = receiver.count()
    if (c !== last) {
      last = c
      lastChange = Date.now()
    } else if (Date.now() - lastChange > stallMs) {
      throw new Error(`${what}: no delivery for ${stallMs} ms (${c} of ${expected})`)
    }
    await sleep(50)
  }
}

/**
 * One JSON request to the gateway. A 503 (the gateway shedding load on a busy machine, refused before
 * the route runs) is retried for up to 30 s.
 */
export async function gatewayJson (gateway: GatewayProcess, method: 'POST' | 'DELETE' | 'GET', path: string, body?: unknown): Promise<unknown> {
  const deadline = Date.now() + 30_000
  for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
    const res = await fetch(`${gateway.url}${path}`, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {})
    })
    const text = await res.text()
    if (res.ok) return text === '' ? undefined : JSON.parse(text)
    if (res.status !== 503 || Date.now() > deadline) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`)
    await sleep(wait)
  }
}

/** POST /consumer-groups body for round-robin groups reading from the beginning, delivering to `url`. */
export function groupDefinitions (groups: Array<{ groupId: string, topic: string }>, url: string, concurrency?: number, batchSize?: number): Record<string, unknown> {
  return Object.fromEntries(groups.map(g => [g.groupId, {
    isPartitionAssign: false,
    fromBeginning: true,
    topics: [{ name: g.topic }],
    webhook: { url, deadLetterTopic: false, ...(batchSize !== undefined ? { batchSize } : {}) },
    ...(concurrency !== undefined ? { concurrency } : {})
  }]))
}

export async function defineGroups (gateway: GatewayProcess, body: Record<string, unknown>): Promise<void> {
  await gatewayJson(gateway, 'POST', '/consumer-groups', body)
}

/** DELETE /consumers?groupId=...: the gateway stops the group and deletes its definition. */
export async function deleteGroup (gateway: GatewayProcess, groupId: string): Promise<void> {
  await gatewayJson(gateway, 'DELETE', `/consumers?groupId=${encodeURIComponent(groupId)}`)
}

/** GET /consumers?clientId=<gateway>: topic → registry entry of this gateway. */
export async function registryTopics (gateway: GatewayProcess): Promise<Record<string, { groupId?: string, groups?: Array<{ groupId?: string }> }>> {
  const all = await gatewayJson(gateway, 'GET', `/consumers?clientId=${encodeURIComponent(gateway.clientId)}`) as
    Record<string, Record<string, { groupId?: string, groups?: Array<{ groupId?: string }> }>>
  return all[gateway.clientId] ?? {}
}

/**
 * One gateway delivery run: defines `groupId` (fromBeginning, `concurrency`) on `topic`, waits for
 * `expected` deliveries at the receiver, then deletes the group. Latency: the receiver's x-fetched-at
 * figures when the gateway sends that header, else the gateway's delivery-latency histogram for the
 * group (bucket precision), else none.
 */
export async function gatewayDeliveryRun (o: {
  gateway: GatewayProcess
  receiver: BenchReceiver
  topic: string
  groupId: string
  expected: number
  concurrency: number
  stallMs: number
  /** The webhook's batchSize (records per request); absent: one record per request. */
  batchSize?: number
}): Promise<DeliveryFigures> {
  const { gateway, receiver } = o
  receiver.reset()
  const before = await deliveryHistogram(gateway, o.groupId)
  const started = performance.now()
  await defineGroups(gateway, groupDefinitions([{ groupId: o.groupId, topic: o.topic }], receiver.url, o.concurrency, o.batchSize))
  try {
    await waitForCount(receiver, o.expected, o.stallMs, `gateway group ${o.groupId}`)
  } catch (err) {
    await deleteGroup(gateway, o.groupId).catch(() => undefined)
    throw err
  }
  // a group left running would keep posting to the receiver during the next runs: failing to stop it ends the benchmark
  await deleteGroup(gateway, o.groupId)
  const first = receiver.firstAt() ?? 0
  const last = receiver.lastAt() ?? 0
  const spanS = (last - first) / 1000
  const count = receiver.count()
  let p99Ms = receiver.percentile(0.99)
  let p50Ms = receiver.percentile(0.5)
  let latencySource = `receiver (${FETCHED_AT_HEADER} header)`
  if (p99Ms === undefined) {
    const h = await deliveryHistogramSince(gateway, o.groupId, before)
    const q99 = h === undefined ? undefined : histogramQuantile(h, 0.99)
    const q50 = h === undefined ? undefined : histogramQuantile(h, 0.5)
    if (q99 !== undefined) {
      p99Ms = q99 * 1000
      p50Ms = q50 === undefined ? undefined : q50 * 1000
      latencySource = `${DELIVERY_HISTOGRAM} (interpolated within its buckets)`
    } else {
      p50Ms = undefined
      latencySource = 'not measurable: the gateway sends no fetch-time header and records no observation in ' + DELIVERY_HISTOGRAM
    }
  }
  return {
    messagesPerSec: spanS > 0 ? count / spanS : 0,
    p99Ms,
    p50Ms,
    latencySource,
    count,
    joinMs: first - started,
    spanS,
    failures: 0
  }
}

// ---------------------------------------------------------------------------------------------
// kafkajs references in a child process

const CHILD = fileURLToPath(new URL('./bare-consumer-child.ts', import.meta.url))

export interface BareConsumer {
  run: (cmd: Omit<RunCommand, 'type'>) => Promise<ChildResult>
  close: () => Promise<void>
}

export function startBareConsumer (): BareConsumer {
  const child = forkTsx(CHILD)
  const send = (cmd: ChildCommand): void => { child.send(cmd) }
  return {
    run: async (cmd) => await new Promise<ChildResult>((resolve, reject) => {
      const onExit = (): void => { reject(new Error('bare consumer child exited')) }
      child.once('exit', onExit)
      child.once('message', (msg: ChildResult) => {
        child.removeListener('exit', onExit)
        resolve(msg)
      })
      send({ type: 'run', ...cmd })
    }),
    close: async () => {
      // asked to exit, it closes its HTTP agent first; SIGKILL when it takes longer than 10 s
      if (child.connected) send({ type: 'exit' })
      await exitWithin(child, 10_000)
    }
  }
}

/** A bare-consumer run as DeliveryFigures: `read` counted in the child, `http` at the receiver. */
export async function bareDeliveryRun (o: {
  bare: BareConsumer
  receiver?: BenchReceiver
  brokers: string[]
  topic: string
  groupId: string
  expected: number
  concurrency: number
  stallMs: number
}): Promise<DeliveryFigures> {
  const mode = o.receiver === undefined ? 'read' : 'http'
  o.receiver?.reset()
  const r = await o.bare.run({
    brokers: o.brokers,
    topic: o.topic,
    groupId: o.groupId,
    expected: o.expected,
    mode,
    ...(o.receiver !== undefined ? { url: o.receiver.url } : {}),
    concurrency: o.concurrency,
    stallMs: o.stallMs
  })
  if (!r.ok) throw new Error(`kafkajs ${mode} consumer: ${r.error ?? 'failed'}`)
  if (o.receiver === undefined) {
    const spanS = (r.lastAt - r.firstAt) / 1000
    return { messagesPerSec: spanS > 0 ? r.count / spanS : 0, p99Ms: undefined, p50Ms: undefined, latencySource: 'n/a (no HTTP)', count: r.count, joinMs: r.joinMs, spanS, failures: 0 }
  }
  const rx = o.receiver
  const spanS = ((rx.lastAt() ?? 0) - (rx.firstAt() ?? 0)) / 1000
  return {
    messagesPerSec: spanS > 0 ? rx.count() / spanS : 0,
    p99Ms: rx.percentile(0.99),
    p50Ms: rx.percentile(0.5),
    latencySource: `receiver (${FETCHED_AT_HEADER} header)`,
    count: rx.count(),
    joinMs: r.joinMs,
    spanS,
    failures: r.failures
  }
}
