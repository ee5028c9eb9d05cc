/** Small helpers the benchmarks share: env numbers, percentiles, medians, unique names. */
import { randomBytes } from 'node:crypto'

/** A positive number from the environment, or `fallback` when unset or empty; throws on anything else. */
export function envNumber (name: string, fallback: number): number {
  const v = process.env[name]
  const n = v === undefined || v === '' ? fallback : Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number (got "${String(v)}")`)
  return n
}

/** Like envNumber, but a positive integer. */
export function envInt (name: string, fallback: number): number {
  const n = envNumber(name, fallback)
  if (!Number.isInteger(n)) throw new Error(`${name} must be a positive integer (got "${String(process.env[name])}")`)
  return n
}

/** The p-th percentile (0..100) of an ascending array: the value at floor(p% × n), as bench/produce.ts always computed it. */
export function percentile (sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

/** The median of a list (the mean of the two middle values for an even count); NaN for an empty list. */
export function median (values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] as number : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

/** A short suffix that makes topic, group and key names unique per run. */
export function runSuffix (): string {
  return `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

export const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

export const MIB = 1024 * 1024
