/**
 * The HTTP load generator of the benchmarks, autocannon, in a process of its own. It ships no type
 * declarations: the small surface the benchmarks use, loaded through require.
 */
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { forkTsx, stopChild } from './child.js'

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

/**
 * Runs autocannon in a child process of its own (autocannon-child.ts), so the load generator shares no
 * event loop with anything else the benchmark does. Resolves with its result.
 */
export async function autocannonInChild (opts: AutocannonOptions): Promise<AutocannonResult> {
  const child = forkTsx(CHILD)
  try {
    return await new Promise<AutocannonResult>((resolve, reject) => {
      let settled = false
      child.once('error', reject)
      child.once('message', (msg: ChildReply) => {
        settled = true
        if (msg.ok) resolve(msg.result)
        else reject(new Error(`autocannon failed: ${msg.error}`))
      })
      child.once('exit', (code, signal) => {
        if (!settled) reject(new Error(`autocannon child exited (code ${String(code)}, signal ${String(signal)}) without a result`))
      })
      child.send(opts)
    })
  } finally {
    await stopChild(child)
  }
}

export type ChildReply = { ok: true, result: AutocannonResult } | { ok: false, error: string }

const CHILD = fileURLToPath(new URL('./autocannon-child.ts', import.meta.url))
