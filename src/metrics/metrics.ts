import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** Values read at scrape time (set by src/metrics/wire.ts once the consumers exist). */
export interface MetricsSources {
  /** The last measured lag of every partition this instance holds. */
  consumerLag?: () => Iterable<{ group: string, topic: string, partition: number, lag: number }>
  /** Wall-clock ms of the last registry heartbeat refresh (undefined: none held). */
  heartbeatAt?: () => number | undefined
  /** Open server-sent event streams by kind (topic, group). */
  sseStreams?: () => Record<string, number>
}

/** The gateway's Prometheus metrics, in a registry of its own (no global state: tests run several apps). */
export interface Metrics {
  registry: Registry
  sources: MetricsSources
  httpRequests: Counter<'method' | 'route' | 'status'>
  httpDuration: Histogram<'method' | 'route'>
  produceRecords: Counter<'topic'>
  produceBytes: Counter<'topic'>
  produceLatency: Histogram<'topic'>
  produceBatchSize: Histogram
  deliveries: Counter<'group' | 'outcome'>
  deliveryStatus: Counter<'group' | 'status_class'>
  deliveryLatency: Histogram<'group'>
  retriesPending: Gauge<'group'>
  consumerLag: Gauge<'group' | 'topic' | 'partition'>
  registryHeartbeatAge: Gauge
  sseStreams: Gauge<'kind'>
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

export function createMetrics (): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'gateway_' })
  const registers = [registry]
  const sources: MetricsSources = {}
  return {
    registry,
    sources,
    httpRequests: new Counter({ name: 'gateway_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers }),
    httpDuration: new Histogram({ name: 'gateway_http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['method', 'route'], buckets: LATENCY_BUCKETS, registers }),
    produceRecords: new Counter({ name: 'gateway_produce_records_total', help: 'Records written to Kafka by POST /messages', labelNames: ['topic'], registers }),
    produceBytes: new Counter({ name: 'gateway_produce_bytes_total', help: 'Key and value bytes written to Kafka by POST /messages', labelNames: ['topic'], registers }),
    produceLatency: new Histogram({ name: 'gateway_produce_latency_seconds', help: 'Time from accepting a record to its Kafka acknowledgement', labelNames: ['topic'], buckets: LATENCY_BUCKETS, registers }),
    produceBatchSize: new Histogram({ name: 'gateway_produce_batch_records', help: 'Records per Kafka produce request after coalescing', buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000], registers }),
    deliveries: new Counter({ name: 'gateway_webhook_deliveries_total', help: 'Webhook delivery outcomes (delivered, retried, dead-lettered, aborted)', labelNames: ['group', 'outcome'], registers }),
    deliveryStatus: new Counter({ name: 'gateway_webhook_responses_total', help: 'Webhook HTTP attempts by status class (2xx, 3xx, 4xx, 5xx, network)', labelNames: ['group', 'status_class'], registers }),
    deliveryLatency: new Histogram({ name: 'gateway_webhook_delivery_latency_seconds', help: 'Time from fetching a record to its webhook answering 2xx', labelNames: ['group'], buckets: LATENCY_BUCKETS, registers }),
    retriesPending: new Gauge({ name: 'gateway_webhook_retries_pending', help: 'Messages waiting for a retry', labelNames: ['group'], registers }),
    consumerLag: new Gauge({
      name: 'gateway_consumer_lag',
      help: 'Messages behind the high watermark, per group and partition held by this instance (measured every registry heartbeat)',
      labelNames: ['group', 'topic', 'partition'],
      registers,
      collect () {
        const read = sources.consumerLag
        if (read === undefined) return
        // partitions this instance no longer holds disappear
        this.reset()
        for (const s of read()) this.set({ group: s.group, topic: s.topic, partition: String(s.partition) }, s.lag)
      }
    }),
    registryHeartbeatAge: new Gauge({
      name: 'gateway_registry_heartbeat_age_seconds',
      help: 'Seconds since this instance last refreshed its registry heartbeat (0 before its first heartbeat and after shutdown)',
      registers,
      collect () {
        const at = sources.heartbeatAt?.()
        this.reset()
        if (at !== undefined) this.set(Math.max(0, Date.now() - at) / 1000)
      }
    }),
    sseStreams: new Gauge({
      name: 'gateway_sse_streams',
      help: 'Server-sent event streams open on this instance (kind: topic or group)',
      labelNames: ['kind'],
      registers,
      collect () {
        const counts = sources.sseStreams?.()
        if (counts === undefined) return
        for (const [kind, n] of Object.entries(counts)) this.set({ kind }, n)
      }
    })
  }
}

export function statusClass (status: number | undefined): string {
  if (status === undefined) return 'network'
  return `${Math.floor(status / 100)}xx`
}
