/** The gateway's Prometheus metrics: GET /metrics, and a histogram's quantile read the way Prometheus' histogram_quantile does. */

/** GET /metrics of the gateway at `url`, as text. */
export async function gatewayMetrics (url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`)
  if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`)
  return await res.text()
}

export interface HistogramSnapshot {
  /** Cumulative counts per upper bound, ascending, +Inf last. */
  buckets: Array<{ le: number, count: number }>
  count: number
  sum: number
}

/** One histogram series (the one whose labels include every `labels` pair) from Prometheus text; undefined when absent. */
export function parseHistogram (text: string, name: string, labels: Record<string, string> = {}): HistogramSnapshot | undefined {
  const buckets: Array<{ le: number, count: number }> = []
  let count: number | undefined
  let sum = 0
  const want = Object.entries(labels)
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line)
    if (m === null) continue
    const [, metric = '', labelText = '', value = ''] = m
    const got = Object.fromEntries([...labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(x => [x[1], x[2]]))
    if (!want.every(([k, v]) => got[k] === v)) continue
    if (metric === `${name}_bucket`) buckets.push({ le: got.le === '+Inf' ? Infinity : Number(got.le), count: Number(value) })
    else if (metric === `${name}_count`) count = Number(value)
    else if (metric === `${name}_sum`) sum = Number(value)
  }
  if (count === undefined || buckets.length === 0) return undefined
  buckets.sort((a, b) => a.le - b.le)
  return { buckets, count, sum }
}

/** The counts of `after` minus `before` (the observations made between two scrapes). */
export function histogramDelta (after: HistogramSnapshot, before: HistogramSnapshot | undefined): HistogramSnapshot {
  if (before === undefined) return after
  return {
    buckets: after.buckets.map((b, i) => ({ le: b.le, count: b.count - (before.buckets[i]?.count ?? 0) })),
    count: after.count - before.count,
    sum: after.sum - before.sum
  }
}

/**
 * The q-quantile (0..1) of a histogram, interpolated linearly inside its bucket (Prometheus'
 * histogram_quantile): only as precise as the bucket bounds. Undefined without observations; the
 * highest finite bound when the quantile falls in +Inf.
 */
export function histogramQuantile (h: HistogramSnapshot, q: number): number | undefined {
  if (h.count <= 0) return undefined
  const rank = q * h.count
  let prevLe = 0
  let prevCount = 0
  for (const b of h.buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe
      const inBucket = b.count - prevCount
      return inBucket <= 0 ? b.le : prevLe + (b.le - prevLe) * ((rank - prevCount) / inBucket)
    }
    prevLe = b.le
    prevCount = b.count
  }
  return prevLe
}
