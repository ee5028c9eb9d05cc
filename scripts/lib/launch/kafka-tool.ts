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

/** One run of a tool: its class, arguments, how its output reads, and what makes a complete result. */
export interface KafkaToolRun<R> {
  /** The class in org.apache.kafka.tools. */
  name: string
  args: string[]
  parse: (out: string, wallMs: number) => R
  /** What is wrong with a parsed result ("sent 10 of 20 records"), or undefined when it is complete. */
  problem: (result: R) => string | undefined
}

/** Runs the tool once; throws with its last output lines when it fails, its summary is missing or incomplete. */
export async function runKafkaTool<R> (run: KafkaToolRun<R>, opts: KafkaToolOptions): Promise<R> {
  const libs = opts.libsDir ?? await ensureKafkaJars()
  const started = Date.now()
  const { code, signal, out } = await runCommand('java', [...kafkaJvmFlags(libs, opts.heapMb ?? DEFAULT_HEAP_MB), `org.apache.kafka.tools.${run.name}`, ...run.args], { timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS })
  const wallMs = Date.now() - started
  if (code !== 0) throw new Error(`${run.name} exited with ${code === null ? `signal ${String(signal)}` : `code ${code}`}:\n${tail(out, 30)}`)
  const result = run.parse(out, wallMs)
  const problem = run.problem(result)
  if (problem !== undefined) throw new Error(`${run.name} ${problem}:\n${tail(out, 30)}`)
  return result
}

/**
 * The numbers of the (first or last) line of `raw` matching `pattern`, named by `fields` in group order;
 * throws naming `what` when there is no such line.
 */
export function lineFields<K extends string> (raw: string, pattern: RegExp, pick: 'first' | 'last', what: string, fields: readonly K[]): Record<K, number> {
  const lines = raw.split('\n').filter(l => pattern.test(l))
  const line = pick === 'first' ? lines[0] : lines[lines.length - 1]
  const m = line === undefined ? null : pattern.exec(line)
  if (m === null) throw new Error(`no ${what} in the output:\n${tail(raw, 30)}`)
  return Object.fromEntries(fields.map((f, i) => [f, Number(m[i + 1])])) as Record<K, number>
}

export function positiveInt (name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer (got ${String(v)})`)
}

/** A number in a tool's summary line. */
export const NUM = String.raw`([\d.]+)`
