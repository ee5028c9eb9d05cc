/**
 * latency: produce-ack → webhook-received under a fixed offered load. POST /messages at a constant rate,
 * LATENCY_LOAD_SHARE (50 %) of the gateway's per-record delivery maximum (the delivery row of this run; a
 * short delivery run of its own when that section is not run), to a topic a gateway group (concurrency
 * as in the delivery row, one record per request) delivers to the receiver. Each record carries its
 * sequence number in a header; the producer (a process of its own) stamps each 2xx answer, the receiver
 * each arrival; latency = arrival − ack. The topic stamps records with the broker's append time
 * (message.timestamp.type=LogAppendTime), which the webhook envelope carries: ack − append is the
 * produce side's share after the append, arrival − append the delivery side, of which the gateway's
 * fetch → 2xx histogram gives what follows the fetch (the records ahead in the batch, the request); the
 * rest is the wait for a fetch. A warm-up of BENCH_WARMUP s at the same rate is left out; each
 * repetition lasts BENCH_DURATION s; each percentile is the median over the repetitions.
 */
import type { GatewayProcess } from '../../scripts/lib/launch/gateway.js'
import { waitUntil } from '../../scripts/lib/launch/wait.js'
import { defineGroups, deleteGroup, deliveryHistogram, deliveryHistogramSince, fillTopic, gatewayDeliveryRun, groupDefinitions } from '../lib/delivery.js'
import type { Row } from '../lib/medians.js'
import { pacedProduce } from '../lib/paced-producer.js'
import { DELIVERY_CONCURRENCY, DELIVERY_WARMUP, LATENCY_LOAD_SHARE, REPS, STALL_MS, VALUE } from '../lib/run-settings.js'
import { CONNECTIONS, DURATION_S, PARTITIONS, WARMUP_S } from '../lib/settings.js'
import { histogramQuantile } from '../lib/histogram.js'
import { fmt, target } from '../lib/table.js'
import { median, percentile } from '../lib/util.js'
import { createTopic, type Bench } from './context.js'

const SEQ_HEADER = 'bench-seq'
const P99_TARGET_MS = 25

interface LatencyFigures { p50Ms: number, p99Ms: number, p999Ms: number, appendToWebhookP50Ms: number, appendToWebhookP99Ms: number, appendToAckP50Ms: number, appendToAckP99Ms: number, fetchToWebhookP50Ms: number, fetchToWebhookP99Ms: number, requestP50Ms: number, requestP99Ms: number, acknowledged: number, delivered: number, failures: number, maxPending: number }

/** The gateway's per-record delivery maximum: from this run's delivery row, else one delivery run of DELIVERY_WARMUP records. */
async function deliveryMaximum (b: Bench, gw: GatewayProcess): Promise<{ rate: number, source: string }> {
  const row = (b.results.delivery as { gateway?: Row<{ messagesPerSec: number }> } | undefined)?.gateway
  if (row !== undefined) return { rate: row.median.messagesPerSec, source: 'the delivery row of this run' }
  const topic = await createTopic(b, `bench-latency-max-${b.suffix}`)
  await fillTopic(b.producer, topic, DELIVERY_WARMUP, PARTITIONS, VALUE)
  const f = await gatewayDeliveryRun({ gateway: gw, receiver: b.receiver, topic, groupId: `bench-latency-max-${b.suffix}`, expected: DELIVERY_WARMUP, concurrency: DELIVERY_CONCURRENCY, stallMs: STALL_MS })
  return { rate: f.messagesPerSec, source: `one delivery run of ${DELIVERY_WARMUP} records (the delivery section did not run)` }
}

/**
 * How the load is produced: POST /messages on the same gateway (end to end: that process both produces
 * and delivers), or kafkajs straight to Kafka, so the gateway only delivers at that rate.
 */
type Via = 'gateway' | 'kafka'
const VIA_NAME: Record<Via, string> = { gateway: 'POST /messages on the same gateway', kafka: 'kafkajs straight to Kafka (the gateway only delivers)' }

/** One paced run of `seconds`; waits for every acknowledged record at the receiver, then joins acks and arrivals. */
async function pacedRun (b: Bench, gw: GatewayProcess, target: { topic: string, groupId: string }, rate: number, seconds: number, via: Via): Promise<LatencyFigures> {
  const { topic, groupId } = target
  const rx = b.receiver
  rx.reset()
  rx.trackSeq(SEQ_HEADER)
  try {
    const before = await deliveryHistogram(gw, groupId)
    const r = await pacedProduce({ url: gw.url, topic, rate, seconds, connections: CONNECTIONS, value: VALUE, seqHeader: SEQ_HEADER, ...(via === 'kafka' ? { brokers: b.brokerList } : {}) })
    const acknowledged = r.ackAt.filter(a => a !== null).length
    await waitUntil(`${acknowledged} acknowledged records at the receiver`, () => rx.arrivals().size >= acknowledged, STALL_MS, 50)
      .catch(() => { b.log(`# latency: ${rx.arrivals().size} of ${acknowledged} acknowledged records arrived within ${STALL_MS} ms`) })
    const lat: number[] = []
    const appendToWebhook: number[] = []
    const appendToAck: number[] = []
    r.ackAt.forEach((ack, seq) => {
      const arrived = rx.arrivals().get(seq)
      const appended = rx.recordTimes().get(seq)
      if (ack !== null && arrived !== undefined) lat.push(arrived - ack)
      if (appended !== undefined && arrived !== undefined) appendToWebhook.push(arrived - appended)
      if (appended !== undefined && ack !== null) appendToAck.push(ack - appended)
    })
    const sorted = Float64Array.from(lat).sort()
    const req = Float64Array.from(r.requestMs)
    const toWebhook = Float64Array.from(appendToWebhook).sort()
    const toAck = Float64Array.from(appendToAck).sort()
    const afterFetch = await deliveryHistogramSince(gw, groupId, before)
    const afterFetchMs = (q: number): number => afterFetch === undefined ? NaN : (histogramQuantile(afterFetch, q) ?? NaN) * 1000
    return {
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      p999Ms: percentile(sorted, 99.9),
      appendToWebhookP50Ms: percentile(toWebhook, 50),
      appendToWebhookP99Ms: percentile(toWebhook, 99),
      appendToAckP50Ms: percentile(toAck, 50),
      appendToAckP99Ms: percentile(toAck, 99),
      fetchToWebhookP50Ms: afterFetchMs(0.5),
      fetchToWebhookP99Ms: afterFetchMs(0.99),
      requestP50Ms: percentile(req, 50),
      requestP99Ms: percentile(req, 99),
      acknowledged,
      delivered: lat.length,
      failures: r.failures,
      maxPending: r.maxPending
    }
  } finally {
    rx.trackSeq(undefined)
  }
}

async function measure (b: Bench, gw: GatewayProcess, rate: number): Promise<Record<Via, LatencyFigures[]>> {
  const topic = await createTopic(b, `bench-latency-${b.suffix}`, PARTITIONS, [{ name: 'message.timestamp.type', value: 'LogAppendTime' }])
  const groupId = `bench-latency-${b.suffix}`
  b.receiver.reset()
  await defineGroups(gw, groupDefinitions([{ groupId, topic }], b.receiver.url, DELIVERY_CONCURRENCY))
  try {
    // the group has joined once a first record comes through
    const probe = await fetch(`${gw.url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topic, value: 'join probe' }) })
    if (!probe.ok) throw new Error(`latency: POST /messages answered ${probe.status}`)
    await waitUntil('the latency group to deliver its first record', () => b.receiver.count() > 0, 120_000, 50)
    const reps: Record<Via, LatencyFigures[]> = { kafka: [], gateway: [] }
    for (const via of ['kafka', 'gateway'] as const) {
      b.log(`# warm-up: ${WARMUP_S} s at ${rate} msg/s, ${VIA_NAME[via]}`)
      await pacedRun(b, gw, { topic, groupId }, rate, WARMUP_S, via)
    }
    for (let i = 1; i <= REPS; i++) {
      for (const via of ['kafka', 'gateway'] as const) {
        const f = await pacedRun(b, gw, { topic, groupId }, rate, DURATION_S, via)
        reps[via].push(f)
        b.log(`# rep ${i}, ${VIA_NAME[via]}: ack → receipt p50 ${f.p50Ms.toFixed(1)} ms, p99 ${f.p99Ms.toFixed(1)} ms, p99.9 ${f.p999Ms.toFixed(1)} ms; ${f.delivered} of ${f.acknowledged} delivered`)
      }
    }
    return reps
  } finally {
    await deleteGroup(gw, groupId)
  }
}

const MEDIAN_KEYS = ['p50Ms', 'p99Ms', 'p999Ms', 'requestP50Ms', 'requestP99Ms', 'appendToWebhookP50Ms', 'appendToWebhookP99Ms', 'appendToAckP50Ms', 'appendToAckP99Ms', 'fetchToWebhookP50Ms', 'fetchToWebhookP99Ms'] as const
type Medians = Record<typeof MEDIAN_KEYS[number], number>

function medians (reps: LatencyFigures[]): Medians {
  return Object.fromEntries(MEDIAN_KEYS.map(k => [k, median(reps.map(f => f[k]))])) as Medians
}

/** The table lines of one way of producing. */
function viaLines (via: Via, rate: number, m: Medians, reps: LatencyFigures[]): string[] {
  const line = (what: string, a: number, b: number, c?: number, tail = ''): string =>
    `  ${what.padEnd(40)} ${fmt(rate, 0, 10)} ${fmt(a, 2, 9)} ${fmt(b, 2, 9)}${c === undefined ? '' : ` ${fmt(c, 2, 9)}`}${tail}`
  const met = m.p99Ms <= P99_TARGET_MS ? 'met' : 'MISSED'
  return [
    `  ${VIA_NAME[via]}:`,
    line('produce ack → webhook received', m.p50Ms, m.p99Ms, m.p999Ms, `   target p99 ≤ ${P99_TARGET_MS} ms: ${met}`),
    line(via === 'gateway' ? 'POST /messages (send → 2xx)' : 'kafkajs send → ack', m.requestP50Ms, m.requestP99Ms),
    line('broker append → ack (produce side)', m.appendToAckP50Ms, m.appendToAckP99Ms),
    line('broker append → webhook (delivery side)', m.appendToWebhookP50Ms, m.appendToWebhookP99Ms),
    line('  of it, fetched → webhook 2xx (gateway)', m.fetchToWebhookP50Ms, m.fetchToWebhookP99Ms),
    `  ${reps.reduce((n, f) => n + f.delivered, 0)} of ${reps.reduce((n, f) => n + f.acknowledged, 0)} acknowledged records joined to their delivery; ${reps.reduce((n, f) => n + f.failures, 0)} failed`
  ]
}

export async function latencyRow (b: Bench, gw: GatewayProcess): Promise<void> {
  const max = await deliveryMaximum(b, gw)
  const rate = Math.max(1, Math.round(max.rate * LATENCY_LOAD_SHARE))
  const load = `${rate} msg/s (${LATENCY_LOAD_SHARE * 100}% of ${max.rate.toFixed(0)} msg/s, ${max.source})`
  b.log(`\n## latency — ${load}, produced straight to Kafka, then through POST /messages`)
  const reps = await measure(b, gw, rate)
  const m = { kafka: medians(reps.kafka), gateway: medians(reps.gateway) }
  for (const via of ['kafka', 'gateway'] as const) {
    b.targets.push(target(`latency: p99 produce-ack → webhook at ${LATENCY_LOAD_SHARE * 100}% of the delivery maximum ≤ ${P99_TARGET_MS} ms, ${VIA_NAME[via]}`, m[via].p99Ms / P99_TARGET_MS, `≤ 1.00 (of ${P99_TARGET_MS} ms)`))
  }
  b.results.latency = {
    offeredPerSec: rate,
    deliveryMaximumPerSec: max.rate,
    deliveryMaximumSource: max.source,
    share: LATENCY_LOAD_SHARE,
    concurrency: DELIVERY_CONCURRENCY,
    measure: 'receiver arrival − producer ack, per record (header bench-seq), epoch ms on performance.timeOrigin in both processes; broker append time from the LogAppendTime record timestamp',
    straightToKafka: { reps: reps.kafka, median: m.kafka },
    throughGateway: { reps: reps.gateway, median: m.gateway }
  }
  const col = (s: string): string => s.padStart(9)
  b.lines.push(
    `\nlatency: ${load} → group, concurrency ${DELIVERY_CONCURRENCY} → receiver`,
    `  ${''.padEnd(40)} ${'msg/s'.padStart(10)} ${col('p50 ms')} ${col('p99 ms')} ${col('p99.9 ms')}`,
    ...viaLines('kafka', rate, m.kafka, reps.kafka),
    ...viaLines('gateway', rate, m.gateway, reps.gateway)
  )
}
