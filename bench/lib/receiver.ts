/**
 * A minimal, fast webhook receiver for the delivery benchmark (it counts records: a batch request counts each
 * of its records): answers 204 as soon as the request body has
 * arrived, counts requests, and, when a request carries a fetch timestamp header (epoch ms, may be
 * fractional), records the fetch-to-receipt latency. It neither parses nor keeps bodies, except while
 * `trackSeq(name)` is on: then it reads record header `name` (a sequence number the producer set) from
 * each single-record envelope and keeps its arrival time, for the latency row.
 *
 *   const rx = await startBenchReceiver()
 *   // ... deliver to rx.url ...
 *   rx.count(); rx.percentile(0.99); await rx.close()
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'

export interface BenchReceiverOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number
  host?: string
  /** Header with the time the record was fetched, epoch ms; default `x-fetched-at`. */
  timestampHeader?: string
  /** Status to answer; default 204. */
  status?: number
}

export interface BenchReceiver {
  url: string
  port: number
  /** Requests answered so far. */
  count: () => number
  /** Bytes of request bodies received. */
  bytes: () => number
  /** performance.now() of the first and the last request (undefined before any). */
  firstAt: () => number | undefined
  lastAt: () => number | undefined
  /** Latencies recorded from the timestamp header, in ms, in arrival order. */
  latencies: () => Float64Array
  /** The q-quantile (0..1) of the recorded latencies; undefined when none. */
  percentile: (q: number) => number | undefined
  /** Read record header `name` (decimal) of every single-record envelope from now on; undefined: stop. */
  trackSeq: (name: string | undefined) => void
  /** Sequence number → arrival time (epoch ms, performance.timeOrigin based) of the tracked envelopes. */
  arrivals: () => ReadonlyMap<number, number>
  /** seq → the record's Kafka timestamp (the envelope's `timestamp`), epoch ms, for tracked records. */
  recordTimes: () => ReadonlyMap<number, number>
  reset: () => void
  close: () => Promise<void>
}

const BATCH_PREFIX = Buffer.from('{"records":[')
/** Each envelope begins with its topic: quotes inside JSON strings are escaped, so values cannot fake it. */
const ENVELOPE_START = Buffer.from('{"topic":"')

/** The decimal value of `"<name>":"` in an envelope's JSON, or undefined. */
/** The envelope's `"timestamp":"<ms>"`: read like a sequence header's value. */
const TIMESTAMP_MARKER = Buffer.from('"timestamp":"')

function seqIn (body: Buffer, marker: Buffer): number | undefined {
  const i = body.indexOf(marker)
  if (i === -1) return undefined
  const end = body.indexOf(0x22, i + marker.length)
  const n = Number(body.subarray(i + marker.length, end).toString('latin1'))
  return Number.isInteger(n) ? n : undefined
}

function recordsIn (body: Buffer): number {
  let n = 0
  for (let i = body.indexOf(ENVELOPE_START); i !== -1; i = body.indexOf(ENVELOPE_START, i + ENVELOPE_START.length)) n++
  return n
}

export async function startBenchReceiver (opts: BenchReceiverOptions = {}): Promise<BenchReceiver> {
  const header = (opts.timestampHeader ?? 'x-fetched-at').toLowerCase()
  const status = opts.status ?? 204
  let count = 0
  let bytes = 0
  let firstAt: number | undefined
  let lastAt: number | undefined
  let lat = new Float64Array(1 << 16)
  let nLat = 0
  const track: { marker: Buffer | undefined, arrivals: Map<number, number>, times: Map<number, number> } = { marker: undefined, arrivals: new Map(), times: new Map() }

  function record (ms: number): void {
    if (nLat === lat.length) {
      const grown = new Float64Array(lat.length * 2)
      grown.set(lat)
      lat = grown
    }
    lat[nLat++] = ms
  }

  const server: Server = createServer((req, res) => {
    const stamp = req.headers[header]
    // a batch body (webhook batchSize > 1) is kept to count its records; a single record only while tracked
    let batch: Buffer[] | undefined
    const single: Buffer[] | undefined = track.marker !== undefined ? [] : undefined
    let first = true
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length
      if (batch !== undefined) batch.push(chunk)
      else if (first && chunk.subarray(0, BATCH_PREFIX.length).equals(BATCH_PREFIX)) batch = [chunk]
      else single?.push(chunk)
      first = false
    })
    req.on('end', () => {
      const now = performance.now()
      count += batch === undefined ? 1 : recordsIn(Buffer.concat(batch))
      const body = batch === undefined && single !== undefined && track.marker !== undefined ? Buffer.concat(single) : undefined
      const seq = body !== undefined && track.marker !== undefined ? seqIn(body, track.marker) : undefined
      if (body !== undefined && seq !== undefined) {
        track.arrivals.set(seq, performance.timeOrigin + now)
        const ts = seqIn(body, TIMESTAMP_MARKER)
        if (ts !== undefined) track.times.set(seq, ts)
      }
      firstAt ??= now
      lastAt = now
      if (typeof stamp === 'string') {
        const fetched = Number(stamp)
        if (Number.isFinite(fetched)) record(performance.timeOrigin + now - fetched)
      }
      res.writeHead(status)
      res.end()
    })
  })
  server.keepAliveTimeout = 65_000
  server.headersTimeout = 66_000
  await new Promise<void>(resolve => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    count: () => count,
    bytes: () => bytes,
    firstAt: () => firstAt,
    lastAt: () => lastAt,
    latencies: () => lat.slice(0, nLat),
    percentile: (q) => {
      if (nLat === 0) return undefined
      const sorted = lat.slice(0, nLat).sort()
      return sorted[Math.min(nLat - 1, Math.max(0, Math.ceil(q * nLat) - 1))]
    },
    trackSeq: (name) => { track.marker = name === undefined ? undefined : Buffer.from(`"${name}":"`) },
    arrivals: () => track.arrivals,
    recordTimes: () => track.times,
    reset: () => { count = 0; bytes = 0; firstAt = undefined; lastAt = undefined; nLat = 0; track.arrivals.clear(); track.times.clear() },
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
