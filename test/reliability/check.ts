/** tap assertions over a harness verdict: one assertion per invariant, so a failure names the one that broke. */
import type { Test } from 'tap'
import { summary, type Verdict } from './report.js'
import { SCENARIOS, type ScenarioName } from './scenarios.js'
import { SMALL, type Infra, type ScenarioSize } from './sizes.js'

/** The shared dev/test broker and Redis (scripts/test.ts exports them). */
export function sharedInfra (): Infra {
  return {
    brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0'
  }
}

export function expectedDeadLetters (size: ScenarioSize): number {
  if (size.poisonModulo <= 0) return 0
  let n = 0
  for (let id = 0; id < size.messages; id++) if (id % size.poisonModulo === 13) n++
  return n
}

export function assertVerdict (t: Test, v: Verdict, size: ScenarioSize): void {
  t.comment(summary(v))
  for (const f of v.faults) t.comment(`fault ${f.kind} "${f.name}": ${Number.isNaN(f.end) ? '?' : f.end - f.start} ms`)
  for (const e of v.examples) t.comment(e)
  t.equal(v.rejected, 0, 'no POST was rejected with a non-retryable answer')
  t.equal(v.gaveUp, 0, 'the client never gave up: every message was accepted in the end')
  t.equal(v.accepted, v.sent, 'accepted == sent')
  t.ok(v.drained, 'the group committed the end of every partition')
  t.equal(v.lost, 0, 'nothing lost: delivered ∪ dead-lettered ⊇ accepted')
  t.equal(v.extras, 0, 'nothing extra: delivered ∪ dead-lettered ⊆ accepted')
  t.equal(v.delivered + v.deadLettered, v.accepted, 'delivered + dead-lettered == accepted')
  t.equal(v.deadLettered, expectedDeadLetters(size), 'exactly the poison messages were dead-lettered')
  t.equal(v.skippedRecords, 0, 'every record in the topic was delivered or dead-lettered (no silent skip)')
  t.equal(v.positionMismatches, 0, 'every accepted partition/offset holds the accepted id')
  t.equal(v.orderViolations, 0, 'first deliveries of each partition in increasing offset order')
  t.ok(v.duplicates <= v.duplicateBound, `duplicates ${v.duplicates} ≤ in-flight bound ${v.duplicateBound}`)
  t.equal(v.unexplainedRedeliveries, 0, 'every redelivery is of a record handled within a fault window')
  t.equal(v.unexplainedReproductions, 0, 'every re-written message had an ambiguous attempt or a broker fault')
  t.same(v.problems, [], 'no problem reported')
}

/** One scenario at small scale as a tap subtest. */
export function smallScenario (t: Test, name: ScenarioName, check?: (t: Test, v: Verdict) => void): void {
  const scenario = SCENARIOS[name]
  t.test(scenario.title(SMALL), async t => {
    const v = await scenario.run(sharedInfra(), SMALL, line => { t.comment(line) })
    assertVerdict(t, v, SMALL)
    check?.(t, v)
  })
}
