/**
 * latency: produce-ack → webhook-received under a fixed offered load. POST /messages at a constant rate,
 * LATENCY_LOAD_SHARE (50 %) of the gateway's per-record delivery maximum (the delivery row of this run; a
 * short delivery run of its own when that section is not run), to a topic a gateway group (concurrency
 * as in the delivery row, one record per request) delivers to the receiver. Each record carries its
 * sequence number in a header; the producer (a process of its own) stamps each 2xx answer, the receiver
 * each arrival; latency = arrival − ack. The topic stamps records with the broker's append time
 * (message.timestamp.type=LogAppendTime), which the webhook envelope carries: ack − append is the
 * produce side's share after the append, arrival − append the delivery side (fetch wait, delivery). A warm-up of BENCH_WARMUP s at the same rate is left out; each
 * repetition lasts BENCH_DURATION s; each percentile is the median over the repetitions.
 */
import type { GatewayProcess } from '../../scripts/lib/launch/gateway.js'
import { waitUntil } from '../../scripts/lib/launch/wait.js'
import { defineGroups, deleteGroup, fillTopic, gatewayDeliveryRun, groupDefinitions } from '../lib/delivery.js'
import type { Row } from '../lib/medians.js'
import { pacedProduce } from '../lib/paced-producer.js'
import { DELIVERY_CONCURRENCY, DELIVERY_WARMUP, LATENCY_LOAD_SHARE, REPS, STALL_MS, VALUE } from '../lib/run-settings.js'
import { CONNECTIONS, DURATION_S, PARTITIONS, WARMUP_S } from '../lib/settings.js'
import { fmt, target } from '../lib/table.js'
import { median, percentile } from '../lib/util.js'
import { createTopic, type Bench } from './context.js'

const SEQ_HEADER = 'bench-seq'
const P99_TARGET_MS = 25

interface LatencyFigures { p50Ms: number, p99Ms: number, p999Ms: number, appendToWebhookP50Ms: number, appendToWebhookP99Ms: number, appendToAckP50Ms: number, appendToAckP99Ms: number, requestP50Ms: number, requestP99Ms: number, acknowledged: number, delivered: number, failures: number, maxPending: number }

/** The gateway's per-record delivery maximum: from this run's delivery row, else one delivery run of DELIVERY_WARMUP records. */
async function deliveryMaximum (b: Bench, gw: GatewayProcess): Promise<{ rate: number, source: string }> {
  const row = (b.results.delivery as { gateway?: Row<{ messagesPerSec: number }> } | undefined)?.gateway
  if (row !== undefined) return { rate: row.median.messagesPerSec, source: 'the delivery row of this run' }
  const topic = await createTopic(b, `bench-latency-max-${b.suffix}`)
  await fillTopic(b.producer, topic, DELIVERY_WARMUP, PARTITIONS, VALUE)
  const f = await gatewayDeliveryRun({ gateway: gw, receiver: b.receiver, topic, groupId: `bench-latency-max-${b.suffix}`, expected: DELIVERY_WARMUP, concurrency: DELIVERY_CONCURRENCY, stallMs: STALL_MS })
  return { rate: f.messagesPerSec, source: `one delivery run of ${DELIVERY_WARMUP} records (the delivery section did not run)` }
}

/** One paced run of `seconds`; waits for every acknowledged record at the receiver, then joins acks and arrivals. */
async function pacedRun (b: Bench, gw: GatewayProcess, topic: string, rate: number, seconds: number): Promise<LatencyFigures> {
  const rx = b.receiver
  rx.reset()
  rx.trackSeq(SEQ_HEADER)
  try {
    const r = await pacedProduce({ url: gw.url, topic, rate, seconds, connections: CONNECTIONS, value: VALUE, seqHeader: SEQ_HEADER })
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
    return {
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      p999Ms: percentile(sorted, 99.9),
      appendToWebhookP50Ms: percentile(toWebhook, 50),
      appendToWebhookP99Ms: percentile(toWebhook, 99),
      appendToAckP50Ms: percentile(toAck, 50),
      appendToAckP99Ms: percentile(toAck, 99),
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

async function measure (b: Bench, gw: GatewayProcess, rate: number): Promise<LatencyFigures[]> {
  const topic = await createTopic(b, `bench-latency-${b.suffix}`, PARTITIONS, [{ name: 'message.timestamp.type', value: 'LogAppendTime' }])
  const groupId = `bench-latency-${b.suffix}`
  b.receiver.reset()
  await defineGroups(gw, groupDefinitions([{ groupId, topic }], b.receiver.url, DELIVERY_CONCURRENCY))
  try {
    // the group has joined once a first record comes through
    const probe = await fetch(`${gw.url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topic, value: 'join probe' }) })
    if (!probe.ok) throw new Error(`latency: POST /messages answered ${probe.status}`)
    await waitUntil('the latency group to deliver its first record', () => b.receiver.count() > 0, 120_000, 50)
    b.log(`# warm-up: ${WARMUP_S} s at ${rate} msg/s`)
    await pacedRun(b, gw, topic, rate, WARMUP_S)
    const reps: LatencyFigures[] = []
    for (let i = 1; i <= REPS; i++) {
      const f = await pacedRun(b, gw, topic, rate, DURATION_S)
      reps.push(f)
      b.log(`# rep ${i}: ack → receipt p50 ${f.p50Ms.toFixed(1)} ms, p99 ${f.p99Ms.toFixed(1)} ms, p99.9 ${f.p999Ms.toFixed(1)} ms; ${f.delivered} of ${f.acknowledged} delivered`)
    }
    return reps
  } finally {
    await deleteGroup(gw, groupId)
  }
}

export async function latencyRow (b: Bench, gw: GatewayProcess): Promise<void> {
  const max = await deliveryMaximum(b, gw)
  const rate = Math.max(1, Math.round(max.rate * LATENCY_LOAD_SHARE))
  b.log(`\n## latency — POST /messages at ${rate} msg/s (${LATENCY_LOAD_SHARE * 100}% of ${max.rate.toFixed(0)} msg/s, ${max.source})`)
  const reps = await measure(b, gw, rate)
  const med = (pick: (f: LatencyFigures) => number): number => median(reps.map(pick))
  const p99 = med(f => f.p99Ms)
  b.targets.push(target(`latency: p99 produce-ack → webhook at ${LATENCY_LOAD_SHARE * 100}% of the delivery maximum ≤ ${P99_TARGET_MS} ms`, p99 / P99_TARGET_MS, `≤ 1.00 (of ${P99_TARGET_MS} ms)`))
  b.results.latency = {
    offeredPerSec: rate,
    deliveryMaximumPerSec: max.rate,
    deliveryMaximumSource: max.source,
    share: LATENCY_LOAD_SHARE,
    concurrency: DELIVERY_CONCURRENCY,
    measure: 'receiver arrival − producer 2xx, per record (header bench-seq), epoch ms on performance.timeOrigin in both processes',
    reps,
    median: {
      p50Ms: med(f => f.p50Ms), p99Ms: p99, p999Ms: med(f => f.p999Ms), requestP50Ms: med(f => f.requestP50Ms), requestP99Ms: med(f => f.requestP99Ms),
      appendToWebhookP50Ms: med(f => f.appendToWebhookP50Ms), appendToWebhookP99Ms: med(f => f.appendToWebhookP99Ms), appendToAckP50Ms: med(f => f.appendToAckP50Ms), appendToAckP99Ms: med(f => f.appendToAckP99Ms)
    }
  }
  const col = (s: string): string => s.padStart(9)
  const delivered = reps.reduce((n, f) => n + f.delivered, 0)
  const acknowledged = reps.reduce((n, f) => n + f.acknowledged, 0)
  b.lines.push(
    `\nlatency: POST /messages at ${rate} msg/s (${LATENCY_LOAD_SHARE * 100}% of ${max.rate.toFixed(0)} msg/s, ${max.source}) → group, concurrency ${DELIVERY_CONCURRENCY} → receiver`,
    `  ${''.padEnd(40)} ${'msg/s'.padStart(10)} ${col('p50 ms')} ${col('p99 ms')} ${col('p99.9 ms')}`,
    `  ${'produce ack → webhook received'.padEnd(40)} ${fmt(rate, 0, 10)} ${fmt(med(f => f.p50Ms), 2, 9)} ${fmt(p99, 2, 9)} ${fmt(med(f => f.p999Ms), 2, 9)}   target p99 ≤ ${P99_TARGET_MS} ms: ${p99 <= P99_TARGET_MS ? 'met' : 'MISSED'}`,
    `  ${'POST /messages (send → 2xx)'.padEnd(40)} ${fmt(rate, 0, 10)} ${fmt(med(f => f.requestP50Ms), 2, 9)} ${fmt(med(f => f.requestP99Ms), 2, 9)}`,
    `  ${'broker append → 2xx (produce side)'.padEnd(40)} ${fmt(rate, 0, 10)} ${fmt(med(f => f.appendToAckP50Ms), 2, 9)} ${fmt(med(f => f.appendToAckP99Ms), 2, 9)}`,
    `  ${'broker append → webhook (delivery side)'.padEnd(40)} ${fmt(rate, 0, 10)} ${fmt(med(f => f.appendToWebhookP50Ms), 2, 9)} ${fmt(med(f => f.appendToWebhookP99Ms), 2, 9)}`,
    `  ${delivered} of ${acknowledged} acknowledged records joined to their delivery; ${reps.reduce((n, f) => n + f.failures, 0)} failed requests`
  )
}
