/**
 * The peers in the delivery row, on the same pre-filled topic as the gateway:
 * - kafka-hooks delivering every record to the bench receiver (one POST per record, the value as the
 *   body), msg/s first to last delivery as for the gateway. Its group is fixed in its config, so each
 *   run is a fresh process with a new group starting from the earliest offset;
 * - the Strimzi bridge's pull consumer (`GET /consumers/{group}/instances/{name}/records`, binary
 *   format), records/s polled by one consumer instance: a reference for reading through an HTTP API,
 *   no webhook.
 */
import { withKafkaHooks, type Bench } from '../rows/context.js'
import { waitForCount, type DeliveryFigures } from './delivery.js'

export interface PeerDeliveryRun { topic: string, groupId: string, expected: number, concurrency: number, stallMs: number }

export async function hooksDeliveryRun (b: Bench, o: PeerDeliveryRun): Promise<DeliveryFigures> {
  const rx = b.receiver
  rx.reset()
  const started = performance.now()
  return await withKafkaHooks(b, {
    deliver: [{ topic: o.topic, url: rx.url }],
    groupId: o.groupId,
    fallbackMode: 'earliest',
    concurrency: o.concurrency
  }, async () => {
    await waitForCount(rx, o.expected, o.stallMs, `kafka-hooks group ${o.groupId}`)
    const first = rx.firstAt() ?? 0
    const spanS = ((rx.lastAt() ?? 0) - first) / 1000
    return {
      messagesPerSec: spanS > 0 ? rx.count() / spanS : 0,
      p50Ms: undefined,
      p99Ms: undefined,
      latencySource: 'n/a (kafka-hooks sends no fetch time)',
      count: rx.count(),
      joinMs: first - started,
      spanS,
      failures: 0
    }
  })
}

const V2 = 'application/vnd.kafka.v2+json'
const BINARY = 'application/vnd.kafka.binary.v2+json'

/** One bridge API call; throws with the bridge's answer unless 2xx. */
async function bridgeCall (url: string, method: 'POST' | 'GET' | 'DELETE', headers: Record<string, string>, body?: unknown): Promise<unknown> {
  const res = await fetch(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 300)}`)
  return text === '' ? undefined : JSON.parse(text)
}

/**
 * Calls `poll` (one poll, answering how many records it got) until `expected` records were read, or
 * nothing came for `stallMs`; the span runs from the first non-empty poll's request to the last's answer.
 */
export async function pollAll (what: string, poll: () => Promise<number>, o: PeerDeliveryRun): Promise<DeliveryFigures> {
  const started = performance.now()
  const s = { count: 0, firstAt: 0, lastAt: 0, lastProgress: Date.now() }
  while (s.count < o.expected) {
    const t0 = performance.now()
    const n = await poll()
    if (n > 0) {
      if (s.firstAt === 0) s.firstAt = t0
      s.count += n
      s.lastAt = performance.now()
      s.lastProgress = Date.now()
    } else if (Date.now() - s.lastProgress > o.stallMs) {
      throw new Error(`${what}: nothing for ${o.stallMs} ms (${s.count} of ${o.expected})`)
    }
  }
  const spanS = (s.lastAt - s.firstAt) / 1000
  return { messagesPerSec: spanS > 0 ? s.count / spanS : 0, p50Ms: undefined, p99Ms: undefined, latencySource: 'n/a (no HTTP push)', count: s.count, joinMs: s.firstAt - started, spanS, failures: 0 }
}

export async function strimziPollRun (bridgeUrl: string, o: PeerDeliveryRun): Promise<DeliveryFigures> {
  const base = `${bridgeUrl}/consumers/${encodeURIComponent(o.groupId)}`
  const created = await bridgeCall(base, 'POST', { 'content-type': V2 }, {
    name: 'bench', format: 'binary', 'auto.offset.reset': 'earliest', 'enable.auto.commit': true, 'consumer.request.timeout.ms': 30_000
  }) as { base_uri: string }
  try {
    await bridgeCall(`${created.base_uri}/subscription`, 'POST', { 'content-type': V2 }, { topics: [o.topic] })
    return await pollAll('Strimzi poll', async () => (await bridgeCall(`${created.base_uri}/records?timeout=1000`, 'GET', { accept: BINARY }) as unknown[]).length, o)
  } finally {
    await bridgeCall(created.base_uri, 'DELETE', { 'content-type': V2 }).catch(() => undefined)
  }
}
