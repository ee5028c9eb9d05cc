/**
 * Apache Kafka's own command-line tools, run from the same 3.9.1 jars as the broker (kafka-jars.ts) in a
 * small JVM (-Xmx256m by default): SIGKILLed if they outlive `timeoutMs` or this process, and failing with
 * the tool's last output lines when it exits non-zero.
 */
import { runCommand } from './child.js'
import { ensureKafkaJars, kafkaJvmFlags } from './kafka-jars.js'
import { tail } from './text.js'

const DEFAULT_HEAP_MB = 256
const DEFAULT_TIMEOUT_MS = 10 * 60_000

export interface KafkaToolOptions {
  /** JVM heap in MiB (default 256). */
  heapMb?: number
  /** Directory of the Kafka jars (default: `ensureKafkaJars()`). */
  libsDir?: string
  /** SIGKILL the tool after this long (default 10 min). */
  timeoutMs?: number
}

/** Runs `main` with `args`; resolves with its whole output and wall time (JVM start included). */
export async function runKafkaTool (name: string, main: string, args: string[], opts: KafkaToolOptions): Promise<{ out: string, wallMs: number }> {
  const libs = opts.libsDir ?? await ensureKafkaJars()
  const started = Date.now()
  const { code, signal, out } = await runCommand('java', [...kafkaJvmFlags(libs, opts.heapMb ?? DEFAULT_HEAP_MB), main, ...args], { timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS })
  const wallMs = Date.now() - started
  if (code !== 0) throw new Error(`${name} exited with ${code === null ? `signal ${String(signal)}` : `code ${code}`}:\n${tail(out, 30)}`)
  return { out, wallMs }
}

export function positiveInt (name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer (got ${String(v)})`)
}

/** A number in a tool's summary line. */
export const NUM = String.raw`([\d.]+)`
