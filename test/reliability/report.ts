/** A counting run's verdict as the README table, its rows and one summary line. */
import type { FaultEvent } from './faults.js'
import type { ReceiverStats } from './receiver.js'

/** The row of the README table. */
export interface ResultRow {
  fault: string
  sent: number
  accepted: number
  delivered: number
  deadLettered: number
  lost: number
  duplicates: number
  durationMs: number
}

export interface Verdict extends ResultRow {
  /** Same partition and offset handled again. */
  redeliveries: number
  /** Same id written at another offset. */
  reproductions: number
  duplicateBound: number
  boundParts: { ambiguousAttempts: number, writeRetriesInFaults: number, uncommittedAtFaults: number }
  unexplainedRedeliveries: number
  unexplainedReproductions: number
  /** First handlings of a partition out of offset order. */
  orderViolations: number
  /** Records in the topic (offset within the watermarks) neither delivered nor dead-lettered. */
  skippedRecords: number
  /** Accepted positions whose record is not the id that was accepted there. */
  positionMismatches: number
  /** Ids delivered or dead-lettered that were never accepted. */
  extras: number
  rejected: number
  gaveUp: number
  drained: boolean
  produceAttempts: number
  retries: Record<string, number>
  receiver: ReceiverStats
  faults: FaultEvent[]
  seed: number | undefined
  /** Every invariant that does not hold, in words (empty: the run is clean). */
  problems: string[]
  examples: string[]
}

export function resultRow (v: Verdict): ResultRow {
  const { fault, sent, accepted, delivered, deadLettered, lost, duplicates, durationMs } = v
  return { fault, sent, accepted, delivered, deadLettered, lost, duplicates, durationMs }
}

/** The README table: fault, sent, delivered, dead-lettered, lost, duplicates (and the bound), duration. */
export function markdownTable (verdicts: Verdict[]): string {
  const lines = [
    '| Fault | Sent | Delivered | Dead-lettered | Lost | Duplicates (bound) | Duration |',
    '|---|---:|---:|---:|---:|---:|---:|'
  ]
  for (const v of verdicts) {
    lines.push(`| ${v.fault} | ${v.sent} | ${v.delivered} | ${v.deadLettered} | ${v.lost} | ${v.duplicates} (≤ ${v.duplicateBound}) | ${(v.durationMs / 1000).toFixed(1)} s |`)
  }
  return lines.join('\n')
}

/** One line for logs and tap comments. */
export function summary (v: Verdict): string {
  return `${v.fault}: sent ${v.sent}, accepted ${v.accepted}, delivered ${v.delivered}, dead-lettered ${v.deadLettered}, lost ${v.lost}, ` +
    `duplicates ${v.duplicates} (redeliveries ${v.redeliveries}, reproductions ${v.reproductions}; bound ${v.duplicateBound} = ` +
    `${v.boundParts.ambiguousAttempts} ambiguous POSTs + ${v.boundParts.writeRetriesInFaults} producer retries of requests cut by a broker fault + ${v.boundParts.uncommittedAtFaults} handled-but-uncommitted at faults), ` +
    `${v.produceAttempts} POSTs, receiver ${v.receiver.requests} requests (${Object.entries(v.receiver.faults).map(([k, n]) => `${k}: ${n}`).join(', ') || 'no faults'}), ` +
    `${(v.durationMs / 1000).toFixed(1)} s`
}
