/** The verdict of a counting run: every invariant checked against what was produced, delivered and dead-lettered. */
import { GATEWAY_PRODUCER_RETRIES, REDELIVERY_LOOKBACK_MS, uncommittedWindow, type FaultEvent, type Sample } from './faults.js'
import type { DeadLetterRecord, PartitionProgress } from './kafka.js'
import type { Attempt, MessageLedger } from './producer.js'
import type { Handling, ReceiverStats } from './receiver.js'
import type { Verdict } from './report.js'

export interface VerifyInput {
  fault: string
  ledger: MessageLedger[]
  handled: Handling[]
  receiver: ReceiverStats
  deadLetters: DeadLetterRecord[]
  /** Watermarks at the end (records outside them are not checked for skips). */
  progress: PartitionProgress[]
  drained: boolean
  faults: FaultEvent[]
  samples: Sample[]
  durationMs: number
  seed?: number | undefined
}

/**
 * The invariants:
 * - delivered ∪ dead-lettered == accepted: nothing lost, nothing extra (an extra is tolerated only for an
 *   id whose client gave up after an ambiguous attempt; a give-up is itself reported);
 * - every record in the topic was delivered or dead-lettered (no silent skip), and every accepted position
 *   holds the accepted id;
 * - per partition, first handlings come in increasing offset order;
 * - duplicates ≤ the in-flight bound, and each one has its cause (see faults.ts).
 */
export function verify (input: VerifyInput): Verdict {
  const { ledger, handled, deadLetters, faults } = input
  const problems: string[] = []
  const examples: string[] = []
  const example = (s: string): void => { if (examples.length < 20) examples.push(s) }
  const pos = (p: number, o: number): string => `${p}@${o}`

  const accepted = ledger.filter(m => m.position !== undefined)
  const acceptedIds = new Set(accepted.map(m => m.id))
  const deliveredIds = new Set(handled.filter(h => h.kind === 'delivered').map(h => h.id))
  const dlqIds = new Set(deadLetters.flatMap(d => d.id === undefined ? [] : [d.id]))

  // every handling (2xx, poison refusal) and dead letter, per id and per position
  const copies = new Map<number, number>()
  const positionsOf = new Map<number, Set<string>>()
  const idAt = new Map<string, Set<number>>()
  const firstHandled = new Map<string, Handling>()
  const handledCount = new Map<string, number>()
  const deliveredAt = new Map<string, number>()
  const note = (id: number, p: number, o: number): void => {
    const k = pos(p, o)
    let s = positionsOf.get(id)
    if (s === undefined) positionsOf.set(id, s = new Set())
    s.add(k)
    let ids = idAt.get(k)
    if (ids === undefined) idAt.set(k, ids = new Set())
    ids.add(id)
  }
  for (const h of handled) {
    note(h.id, h.partition, h.offset)
    const k = pos(h.partition, h.offset)
    if (h.kind === 'delivered') copies.set(h.id, (copies.get(h.id) ?? 0) + 1)
    if (!firstHandled.has(k)) firstHandled.set(k, h)
    handledCount.set(k, (handledCount.get(k) ?? 0) + 1)
    if (h.kind === 'delivered') deliveredAt.set(k, (deliveredAt.get(k) ?? 0) + 1)
  }
  const dlqCount = new Map<string, number>()
  for (const d of deadLetters) {
    if (d.id === undefined) {
      problems.push(`a dead letter without one of our ids at ${d.partition}@${d.offset}`)
      continue
    }
    note(d.id, d.originalPartition, d.originalOffset)
    copies.set(d.id, (copies.get(d.id) ?? 0) + 1)
    const k = pos(d.originalPartition, d.originalOffset)
    dlqCount.set(k, (dlqCount.get(k) ?? 0) + 1)
  }

  // lost, extra, mismatched
  let lost = 0
  let mismatches = 0
  for (const m of accepted) {
    if (!deliveredIds.has(m.id) && !dlqIds.has(m.id)) {
      lost++
      example(`lost: id ${m.id} accepted at ${pos(m.position?.partition ?? -1, m.position?.offset ?? -1)} after ${m.attempts.length} attempt(s)`)
    }
    const at = idAt.get(pos(m.position?.partition ?? -1, m.position?.offset ?? -1))
    if (at !== undefined && !(at.size === 1 && at.has(m.id))) {
      mismatches++
      example(`mismatch: id ${m.id} accepted at ${pos(m.position?.partition ?? -1, m.position?.offset ?? -1)}, which holds ids ${[...at].join(',')}`)
    }
  }
  const gaveUpAmbiguous = new Set(ledger.filter(m => m.gaveUp !== undefined && m.attempts.some(a => a.ambiguous)).map(m => m.id))
  let extras = 0
  for (const id of new Set([...deliveredIds, ...dlqIds])) {
    if (acceptedIds.has(id)) continue
    extras++
    if (!gaveUpAmbiguous.has(id)) {
      problems.push(`id ${id} was delivered or dead-lettered but never accepted, and no attempt of it was ambiguous`)
    }
  }

  // skipped records: every offset within the final watermarks must have been handled or dead-lettered
  let skipped = 0
  for (const p of input.progress) {
    for (let o = p.low; o < p.high; o++) {
      const k = pos(p.partition, o)
      if (!firstHandled.has(k) && !dlqCount.has(k)) {
        skipped++
        example(`skipped: record ${k} was never delivered nor dead-lettered`)
      }
    }
  }

  // order of first handlings per partition
  let orderViolations = 0
  const lastFirst = new Map<number, number>()
  const seenPos = new Set<string>()
  for (const h of handled) {
    const k = pos(h.partition, h.offset)
    if (seenPos.has(k)) continue
    seenPos.add(k)
    const prev = lastFirst.get(h.partition)
    if (prev !== undefined && h.offset < prev) {
      orderViolations++
      example(`order: partition ${h.partition} offset ${h.offset} first handled after offset ${prev}`)
    }
    lastFirst.set(h.partition, Math.max(prev ?? -1, h.offset))
  }

  // duplicates and their causes
  const infra = faults.filter(f => f.kind !== 'webhook')
  const inWindow = (t: number): boolean => infra.some(f => t >= f.start - REDELIVERY_LOOKBACK_MS && t <= f.windowEnd)
  const overlapsFault = (a: Attempt): boolean => faults.some(f => f.kind === 'broker' && a.start <= f.writeWindowEnd && a.end >= f.start)
  /** How many extra copies an attempt can have written (see faults.ts). */
  const extraWrites = (a: Attempt): number => {
    const cut = overlapsFault(a) ? GATEWAY_PRODUCER_RETRIES : 0
    if (a.ambiguous) return 1 + cut
    return a.outcome === '200' ? cut : 0
  }
  let duplicates = 0
  for (const n of copies.values()) duplicates += Math.max(0, n - 1)
  let reproductions = 0
  let unexplainedReproductions = 0
  for (const [id, set] of positionsOf) {
    const extra = set.size - 1
    if (extra <= 0) continue
    reproductions += extra
    const m = ledger[id]
    const causes = m?.attempts.reduce((n, a) => n + extraWrites(a), 0) ?? 0
    const how = `id ${id} written at ${[...set].join(', ')}; POST attempts ${m?.attempts.map(a => `${a.outcome}${a.ambiguous ? ' (ambiguous)' : ''}${overlapsFault(a) ? ' (cut by a broker fault)' : ''}${a.detail !== undefined ? ` "${a.detail}"` : ''}`).join(' → ') ?? '?'}`
    if (extra > causes) {
      unexplainedReproductions += extra - causes
      example(`unexplained reproduction: ${how}`)
    } else {
      example(`reproduction: ${how}`)
    }
  }
  let redeliveries = 0
  let unexplainedRedeliveries = 0
  const allPositions = new Set([...handledCount.keys(), ...dlqCount.keys()])
  for (const k of allPositions) {
    // copies of one record: 2xx deliveries and dead letters (a refusal is not a copy: its dead letter is)
    const times = deliveredAt.get(k) ?? 0
    const dl = dlqCount.get(k) ?? 0
    const first = firstHandled.get(k)
    const again = times + dl - 1
    if (again <= 0) continue
    redeliveries += again
    if (first === undefined || !inWindow(first.at)) {
      unexplainedRedeliveries += again
      example(`redelivery: ${k} delivered ${times}× and dead-lettered ${dl}×, first handled at ${first === undefined ? '?' : Math.round(first.at)} ms, outside every fault window`)
    }
  }

  const ambiguousAttempts = ledger.reduce((n, m) => n + m.attempts.filter(a => a.ambiguous).length, 0)
  const writeRetriesInFaults = ledger.reduce((n, m) => n + m.attempts.reduce((k, a) => k + extraWrites(a) - (a.ambiguous ? 1 : 0), 0), 0)
  const uncommittedAtFaults = infra.reduce((n, f) => n + uncommittedWindow(input.samples, f.start, f.windowEnd), 0)
  const duplicateBound = ambiguousAttempts + writeRetriesInFaults + uncommittedAtFaults

  const rejected = ledger.filter(m => m.rejected !== undefined)
  const gaveUp = ledger.filter(m => m.gaveUp !== undefined)
  for (const m of rejected.slice(0, 5)) example(`rejected: id ${m.id}: ${m.rejected ?? ''}`)
  for (const m of gaveUp.slice(0, 5)) example(`gave up: id ${m.id} after ${m.attempts.length} attempts: ${m.attempts.slice(-3).map(a => a.outcome).join(' → ')}`)
  const retries: Record<string, number> = {}
  for (const m of ledger) for (const a of m.attempts) if (a.outcome !== '200') retries[a.outcome] = (retries[a.outcome] ?? 0) + 1

  if (!input.drained) problems.push(`not drained: ${input.progress.map(p => `p${p.partition} committed ${p.committed} of ${p.high}`).join(', ')}`)
  if (rejected.length > 0) problems.push(`${rejected.length} message(s) rejected with a non-retryable answer`)
  if (gaveUp.length > 0) problems.push(`the client gave up on ${gaveUp.length} message(s)`)
  if (lost > 0) problems.push(`${lost} accepted message(s) lost (neither delivered nor dead-lettered)`)
  if (skipped > 0) problems.push(`${skipped} record(s) in the topic skipped (neither delivered nor dead-lettered)`)
  if (mismatches > 0) problems.push(`${mismatches} accepted position(s) hold another id`)
  if (orderViolations > 0) problems.push(`${orderViolations} first handling(s) out of partition order`)
  if (duplicates > duplicateBound) problems.push(`${duplicates} duplicates exceed the in-flight bound ${duplicateBound}`)
  if (unexplainedRedeliveries > 0) problems.push(`${unexplainedRedeliveries} redelivery(ies) of records first handled outside every fault window`)
  if (unexplainedReproductions > 0) problems.push(`${unexplainedReproductions} reproduction(s) without an ambiguous attempt or a broker fault`)

  return {
    fault: input.fault,
    sent: ledger.length,
    accepted: accepted.length,
    delivered: deliveredIds.size,
    deadLettered: [...dlqIds].filter(id => !deliveredIds.has(id)).length,
    lost,
    duplicates,
    durationMs: Math.round(input.durationMs),
    redeliveries,
    reproductions,
    duplicateBound,
    boundParts: { ambiguousAttempts, writeRetriesInFaults, uncommittedAtFaults },
    unexplainedRedeliveries,
    unexplainedReproductions,
    orderViolations,
    skippedRecords: skipped,
    positionMismatches: mismatches,
    extras,
    rejected: rejected.length,
    gaveUp: gaveUp.length,
    drained: input.drained,
    produceAttempts: ledger.reduce((n, m) => n + m.attempts.length, 0),
    retries,
    receiver: input.receiver,
    faults: faults.map(f => ({ ...f, start: Math.round(f.start), end: Math.round(f.end), windowEnd: Math.round(f.windowEnd), writeWindowEnd: Math.round(f.writeWindowEnd) })),
    seed: input.seed,
    problems,
    examples
  }
}
