/** autocannon ships no type declarations: the small surface the benchmarks use, loaded through require. */
import { createRequire } from 'node:module'

export interface AutocannonOptions {
  url: string
  connections: number
  duration: number
  method?: 'POST' | 'GET'
  headers?: Record<string, string>
  body?: string
  /** Requests timing out after this many seconds count as errors. */
  timeout?: number
}

export interface Percentiles {
  average: number
  mean: number
  stddev: number
  min: number
  max: number
  p50: number
  p90: number
  p99: number
  p99_9?: number
}

export interface AutocannonResult {
  duration: number
  errors: number
  timeouts: number
  non2xx: number
  '2xx': number
  statusCodeStats: Record<string, { count: number }>
  latency: Percentiles & { totalCount: number }
  requests: Percentiles & { total: number, sent: number }
}

type Autocannon = (opts: AutocannonOptions) => Promise<AutocannonResult>

const load = createRequire(import.meta.url)
export const autocannon = load('autocannon') as Autocannon
