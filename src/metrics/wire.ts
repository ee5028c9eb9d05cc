/**
 * Feeds the Prometheus metrics (metrics.ts) from the services' observers:
 *
 * - produce (app.produce.observe): every Kafka batch that succeeded adds its records and key + value bytes
 *   per topic (`gateway_produce_records_total`, `gateway_produce_bytes_total`) and its size to
 *   `gateway_produce_batch_records` (failed batches too: that is the request Kafka got); every request
 *   that succeeded observes its accept-to-acknowledgement time in `gateway_produce_latency_seconds`.
 * - delivery (the deliverer's events): `gateway_webhook_deliveries_total{outcome}` counts delivered,
 *   retried (each retry scheduled, per request), dead-lettered and aborted (per record: a batch request counts its records); every HTTP attempt counts in
 *   `gateway_webhook_responses_total{status_class}`; `delivered` observes its fetch-to-2xx latency;
 *   `gateway_webhook_retries_pending` counts the messages that had a retry scheduled and have not yet
 *   ended (delivered, dead-lettered or aborted) — each message once, however many retries it needs.
 * - consumer lag and the registry heartbeat age are read at scrape time from the supervisor.
 */
import type { DeliveryEvent } from '../webhooks/types.js'
import type { ProduceEvent } from '../produce/types.js'
import { statusClass, type Metrics } from './metrics.js'

export interface ProduceSource {
  observe (observer: (e: ProduceEvent) => void): () => void
}

export interface DeliverySource {
  subscribe (listener: (e: DeliveryEvent) => void): () => void
}

export interface ConsumerSource {
  lag (): Iterable<{ group: string, topic: string, partition: number, lag: number }>
  heartbeatAt (): number | undefined
}

export function produceMetrics (metrics: Metrics): (e: ProduceEvent) => void {
  return (e) => {
    if (e.kind === 'batch') {
      metrics.produceBatchSize.observe(e.records)
      if (e.error !== undefined) return
      for (const [topic, t] of Object.entries(e.perTopic)) {
        metrics.produceRecords.inc({ topic }, t.records)
        metrics.produceBytes.inc({ topic }, t.bytes)
      }
      return
    }
    if (e.status < 300 && e.records > 0 && e.topic !== '') metrics.produceLatency.observe({ topic: e.topic }, e.durationMs / 1000)
  }
}

export function deliveryMetrics (metrics: Metrics): (e: DeliveryEvent) => void {
  /** Messages (group, topic, partition, offset) with a retry pending. */
  const pending = new Set<string>()
  const keyOf = (e: DeliveryEvent): string => `${e.groupId}\u0000${e.topic}\u0000${e.partition}\u0000${e.offset ?? ''}`
  const settle = (e: DeliveryEvent): void => {
    // the common case, nothing retried: no key to build
    if (pending.size > 0 && pending.delete(keyOf(e))) metrics.retriesPending.dec({ group: e.groupId })
  }
  return (e) => {
    const group = e.groupId
    switch (e.kind) {
      case 'attempt':
        metrics.deliveryStatus.inc({ group, status_class: statusClass(e.status) })
        return
      case 'retry-scheduled': {
        metrics.deliveries.inc({ group, outcome: 'retried' })
        const k = keyOf(e)
        if (!pending.has(k)) {
          pending.add(k)
          metrics.retriesPending.inc({ group })
        }
        return
      }
      case 'delivered':
        metrics.deliveries.inc({ group, outcome: 'delivered' }, e.records ?? 1)
        if (e.durationMs !== undefined) metrics.deliveryLatency.observe({ group }, e.durationMs / 1000)
        settle(e)
        return
      case 'dead-lettered':
        metrics.deliveries.inc({ group, outcome: 'dead-lettered' }, e.records ?? 1)
        settle(e)
        return
      case 'aborted':
        metrics.deliveries.inc({ group, outcome: 'aborted' }, e.records ?? 1)
        settle(e)
    }
  }
}

/** Subscribes the metrics to every source; returns the removal of the subscriptions. */
export function wireMetrics (metrics: Metrics, { produce, deliveries, consumers, sse }: { produce?: ProduceSource, deliveries?: DeliverySource, consumers?: ConsumerSource, sse?: { counts: () => Record<string, number> } }): () => void {
  const offs: Array<() => void> = []
  if (produce !== undefined) offs.push(produce.observe(produceMetrics(metrics)))
  if (deliveries !== undefined) offs.push(deliveries.subscribe(deliveryMetrics(metrics)))
  if (consumers !== undefined) {
    metrics.sources.consumerLag = () => consumers.lag()
    metrics.sources.heartbeatAt = () => consumers.heartbeatAt()
  }
  if (sse !== undefined) metrics.sources.sseStreams = () => sse.counts()
  return () => {
    for (const off of offs) off()
    delete metrics.sources.consumerLag
    delete metrics.sources.heartbeatAt
    delete metrics.sources.sseStreams
  }
}
