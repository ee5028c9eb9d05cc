/** What both soaks (scripts/soak.ts: the scenarios, and --chaos) read from the environment and record of the machine. */
import { cpus, loadavg, totalmem } from 'node:os'

export function positive (name: string, fallback: number): number {
  const v = process.env[name]
  const n = v === undefined || v === '' ? fallback : Number(v)
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer (got "${v}")`)
  return n
}

/** The results files' `machine`: the figures depend on it (2 cores shared by brokers, gateways and harness). */
export function machine (): Record<string, unknown> {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    loadavg: loadavg().map(l => Math.round(l * 100) / 100)
  }
}
