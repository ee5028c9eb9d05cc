/**
 * `npm run soak -- --chaos` (issue 16, item 5): one long run with random faults on a schedule
 * (test/reliability/chaos/). Prints the README table row and the fault log, writes bench/results/chaos.json.
 *
 * Env: SOAK_SECONDS (production time, default 300), SOAK_RATE (messages per second, default 50; the run
 * sends SOAK_SECONDS × SOAK_RATE), RELIABILITY_SEED (the schedule's and the receiver's seed, 8), and the
 * RELIABILITY_LOG_LEVEL / RELIABILITY_LOG_DIR of the scenarios.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { markdownTable, resultRow, summary } from '../../test/reliability/report.js'
import { runChaos } from '../../test/reliability/chaos/run.js'
import type { FaultLogEntry } from '../../test/reliability/chaos/faults.js'
import { soakSize } from '../../test/reliability/sizes.js'
import { machine, positive } from './soak-env.js'

const RESULTS = fileURLToPath(new URL('../../bench/results/chaos.json', import.meta.url))

/** The fault log as Markdown: when each fault started (after production began), what it was, how long until healed. */
export function faultLogTable (log: FaultLogEntry[]): string {
  const lines = ['| At | Fault | Duration (until healed) |', '|---:|---|---:|']
  for (const f of log) {
    lines.push(`| ${(f.atMs / 1000).toFixed(1)} s | ${f.name} | ${f.skipped ? 'skipped (production over)' : `${(f.durationMs / 1000).toFixed(1)} s`} |`)
  }
  return lines.join('\n')
}

export async function runChaosSoak (stamp: () => string): Promise<number> {
  const started = Date.now()
  const seconds = positive('SOAK_SECONDS', 300)
  const rate = positive('SOAK_RATE', 50)
  const size = { ...soakSize(rate * seconds, seconds), ratePerSec: rate }
  console.error(`${stamp()} chaos soak: ${size.messages} messages over ~${seconds} s (${rate} msg/s), ${size.partitions} partitions, ${size.keys} keys, seed ${size.seed}`)
  const outcome = await runChaos(size, seconds, line => { console.error(`${stamp()}   ${line}`) })
  const v = outcome.verdict
  console.error(`${stamp()}   ${summary(v)}`)
  for (const e of v.examples) console.error(`${stamp()}   ${e}`)
  for (const p of v.problems) console.error(`${stamp()}   PROBLEM: ${p}`)

  const table = markdownTable([v])
  const faultLog = faultLogTable(outcome.faultLog)
  console.log(`${table}\n\n${faultLog}`)
  mkdirSync(fileURLToPath(new URL('../../bench/results/', import.meta.url)), { recursive: true })
  writeFileSync(RESULTS, JSON.stringify({
    benchmark: 'reliability-chaos-soak',
    date: new Date().toISOString(),
    machine: machine(),
    setup: {
      ...size,
      seconds,
      setupMs: outcome.setupMs,
      note: '3 brokers (replication 3, min.insync.replicas 2, acks -1), Redis, 2 gateway processes (node --import tsx src/server.ts) in one round-robin group with concurrency = partitions, webhook on node:http behind a loopback delay proxy (10 s per-attempt timeout); every 97th id (id % 97 == 13) is refused with 422 and must be dead-lettered'
    },
    row: resultRow(v),
    table,
    faultLog: outcome.faultLog,
    faultLogTable: faultLog,
    schedule: outcome.schedule,
    verdict: v,
    durationS: Math.round((Date.now() - started) / 1000)
  }, null, 2) + '\n')
  const ok = v.problems.length === 0
  console.error(`${stamp()} wrote ${RESULTS}; ${ok ? 'every invariant held' : `${v.problems.length} problem(s)`}`)
  return ok ? 0 : 1
}
