/** The settings of `npm run bench` beyond the shared ones (settings.ts): repetitions, sizes, sections, where results go. */
import { fileURLToPath } from 'node:url'
import { benchValue } from './produce-runs.js'
import { MESSAGE_BYTES } from './settings.js'
import { envInt, MIB } from './util.js'

export const REPS = envInt('BENCH_REPS', 3)
export const BATCH = envInt('BENCH_BATCH', 100)
export const DELIVERY_MESSAGES = envInt('BENCH_DELIVERY_MESSAGES', 200_000)
export const DELIVERY_WARMUP = envInt('BENCH_DELIVERY_WARMUP', Math.min(20_000, Math.max(1000, Math.round(DELIVERY_MESSAGES / 10))))
export const DELIVERY_CONCURRENCY = envInt('BENCH_DELIVERY_CONCURRENCY', 6)
export const DELIVERY_BATCH = envInt('BENCH_DELIVERY_BATCH', 100)
export const GROUPS = envInt('BENCH_GROUPS', 50)
/** The memory section's second step: groups defined in all, the first GROUPS included. */
export const GROUPS_MANY = envInt('BENCH_GROUPS_MANY', 500)
export const GROUP_RECORDS = envInt('BENCH_GROUP_RECORDS', 10)
export const STALL_MS = envInt('BENCH_STALL_MS', 60_000)
export const APACHE_WARMUP_RECORDS = envInt('BENCH_APACHE_WARMUP_RECORDS', 100_000)
export const SKIP_BUILD = process.env.BENCH_SKIP_BUILD === '1'
export const CPU_PROF_DIR = process.env.BENCH_CPU_PROF ?? ''
export const SECTIONS = ['produce-single', 'produce-batch', 'delivery', 'latency', 'memory'] as const
/** Sections only BENCH_ONLY runs: not part of a full run. */
export const EXTRA_SECTIONS = ['memory-soak'] as const
export type Section = typeof SECTIONS[number] | typeof EXTRA_SECTIONS[number]
const KNOWN: readonly string[] = [...SECTIONS, ...EXTRA_SECTIONS]
export const ONLY = new Set((process.env.BENCH_ONLY ?? SECTIONS.join(',')).split(',').map(s => s.trim()).filter(s => s !== ''))
for (const s of ONLY) if (!KNOWN.includes(s)) throw new Error(`BENCH_ONLY: unknown section "${s}" (known: ${KNOWN.join(', ')})`)
/** How long memory-soak loads the gateway. */
export const SOAK_S = envInt('BENCH_SOAK_SECONDS', 600)
export const runs = (s: Section): boolean => ONLY.has(s)

/** RSS targets (issue 14) with GROUPS and with GROUPS_MANY groups defined. */
export const RSS_TARGET_BYTES = { groups: 150 * MIB, groupsMany: 300 * MIB }
/** The latency section offers this share of the gateway's per-record delivery maximum. */
export const LATENCY_LOAD_SHARE = 0.5
// A full run writes latest.json; a partial (BENCH_ONLY) or profiled (BENCH_CPU_PROF) one a git-ignored file, so
// it never replaces the figures of a full run. BENCH_RESULTS names the file explicitly.
const FULL_RUN = SECTIONS.every(s => ONLY.has(s)) && CPU_PROF_DIR === ''
export const RESULTS = process.env.BENCH_RESULTS !== undefined && process.env.BENCH_RESULTS !== ''
  ? process.env.BENCH_RESULTS
  : fileURLToPath(new URL(FULL_RUN ? '../results/latest.json' : '../results/partial.tmp.json', import.meta.url))
export const VALUE = benchValue(MESSAGE_BYTES)

/** Retention caps on benchmark topics, so a long run does not fill the broker's disk (/dev/shm). */
export const TOPIC_CONFIG = [
  { name: 'retention.bytes', value: String(32 * MIB) },
  { name: 'segment.bytes', value: String(8 * MIB) }
]
