/** The table `npm run bench` prints: one section per part, one line per contender, ratios against their targets. */
import type { DeliveryFigures } from './delivery.js'
import type { Figures } from './produce-runs.js'
import { REPS } from './run-settings.js'
import { CONNECTIONS } from './settings.js'
import { MIB } from './util.js'

/** A target of issues 7 and 14 and whether this run met it (undefined: not run). */
export interface Target { what: string, ratio: number | undefined, goal: string, met: boolean | undefined }

/** A target from its ratio and goal (`≥ 1.00`, `> 1.00`, `≤ 1.00`); NOT RUN, saying why, without a ratio. */
export function target (what: string, ratio: number | undefined, goal: string, notRun = ''): Target {
  return ratio === undefined || !Number.isFinite(ratio)
    ? { what: `${what} — not run${notRun !== '' ? `: ${notRun}` : ''}`, ratio: undefined, goal, met: undefined }
    : { what, ratio, goal, met: goalMet(ratio, goal) }
}

export function fmt (n: number | undefined, digits: number, width: number): string {
  return (n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits)).padStart(width)
}

export function section (name: string, what: string, c2 = 'p50 ms', c3 = 'p99 ms', c1 = 'msg/s'): string {
  return `\n${name}: ${what}\n  ${''.padEnd(40)} ${c1.padStart(10)} ${c2.padStart(9)} ${c3.padStart(9)}`.trimEnd()
}

export function figRow (name: string, f: Figures): string {
  const codes = Object.entries(f.statusCodes ?? {}).filter(([code]) => !code.startsWith('2')).map(([code, n]) => `${n}× ${code}`)
  const failed = f.failures > 0 ? `   ${f.failures} failed requests over all repetitions${codes.length > 0 ? ` (${codes.join(', ')})` : ''}` : ''
  return `  ${name.padEnd(40)} ${fmt(f.messagesPerSec, 0, 10)} ${fmt(f.p50Ms, 2, 9)} ${fmt(f.p99Ms, 2, 9)}${failed}`
}

export function deliveryRow (name: string, f: DeliveryFigures): string {
  return `  ${name.padEnd(40)} ${fmt(f.messagesPerSec, 0, 10)} ${fmt(f.p50Ms, 1, 9)} ${fmt(f.p99Ms, 1, 9)}`
}

export function notRunRow (name: string, reason: string): string {
  return `  ${name.padEnd(40)} not run: ${reason}`
}

export function ratioRow (name: string, ratio: number, goal: string, perRep?: number[]): string {
  const spread = perRep !== undefined && perRep.length > 1 ? `; per repetition ${perRep.map(r => r.toFixed(2)).join(', ')}` : ''
  return `  → ${name}: ${ratio.toFixed(2)}${goal !== '' ? ` (target ${goal}: ${goalMet(ratio, goal) ? 'met' : 'MISSED'})` : ''}${spread}`
}

/** The ratio lines of the contenders that ran: [name, ratio (undefined: not run, no line), goal or '', the ratio per repetition]. */
export function ratioLines (ratios: Array<[string, number | undefined, string, number[]?]>): string[] {
  return ratios.flatMap(([name, r, goal, perRep]) => r === undefined ? [] : [ratioRow(name, r, goal, perRep)])
}

function goalMet (ratio: number, goal: string): boolean {
  const m = /^(≥|>|≤|<)\s*([\d.]+)/.exec(goal)
  if (m === null) return true
  const bound = Number(m[2])
  switch (m[1]) {
    case '≥': return ratio >= bound
    case '>': return ratio > bound
    case '≤': return ratio <= bound
    default: return ratio < bound
  }
}

/** The check that every 2xx is a record, and that no record was written for a request answered otherwise. */
export function writtenRow (written: number, acknowledged: number, perRequest: number): string {
  const extra = written - acknowledged
  // requests still in flight when autocannon stops are written but not counted: up to one per connection per run
  const inFlight = CONNECTIONS * perRequest * (REPS + 1)
  return `  check: ${written} records in the gateway's topic, ${acknowledged} acknowledged with 2xx (warm-up included)` +
    (extra < 0
      ? ` — ${-extra} acknowledged but MISSING`
      : extra > inFlight
        ? ` — ${extra} more than acknowledged, beyond the ${inFlight} that can be in flight when runs stop: records written for requests answered non-2xx`
        : ` — ${extra} more (requests in flight when a run stopped)`)
}

/** An RSS line; with `targetBytes`, whether it stays within that target. */
export function memRow (name: string, bytes: number, targetBytes?: number): string {
  const goal = targetBytes === undefined ? '' : `   target ≤ ${(targetBytes / MIB).toFixed(0)} MiB: ${bytes <= targetBytes ? 'met' : 'MISSED'}`
  return `  ${name.padEnd(40)} ${`${(bytes / MIB).toFixed(0)} MiB`.padStart(10)}${goal}`
}

export function targetLines (targets: Target[]): string[] {
  return ['', 'targets (issues 7 and 14)', ...targets.map(t =>
    `  ${t.met === undefined ? 'NOT RUN' : t.met ? 'MET    ' : 'MISSED '} ${t.what}${t.ratio !== undefined ? `: ${t.ratio.toFixed(2)} (goal ${t.goal})` : ''}`)]
}
