import t from 'tap'
import { CHAOS_FAULTS, MAX_DELAY_MS, MAX_JITTER_MS, chaosSchedule } from './schedule.js'

const opts = { totalMs: 1_800_000 }

t.test('the same seed gives the same schedule, another seed another one', async t => {
  t.same(chaosSchedule(8, opts), chaosSchedule(8, opts))
  t.notSame(chaosSchedule(8, opts).map(s => s.fault), chaosSchedule(9, opts).map(s => s.fault))
})

t.test('every fault comes up once in each run of nine, before any comes up twice', async t => {
  const steps = chaosSchedule(8, opts)
  t.ok(steps.length >= 2 * CHAOS_FAULTS.length, `${steps.length} steps in 30 min`)
  for (let i = 0; i + CHAOS_FAULTS.length <= steps.length; i += CHAOS_FAULTS.length) {
    const block = steps.slice(i, i + CHAOS_FAULTS.length).map(s => s.fault)
    t.same([...block].sort(), [...CHAOS_FAULTS].sort(), `steps ${i}..${i + CHAOS_FAULTS.length - 1}`)
  }
})

t.test('steps are in order, apart, and none starts in the quiet tail', async t => {
  const gapMs: [number, number] = [10_000, 25_000]
  const steps = chaosSchedule(3, { totalMs: 300_000, gapMs, tailShare: 0.2 })
  t.ok(steps.length > 0)
  t.ok((steps[0]?.atMs ?? 0) >= gapMs[0], 'the run begins quiet')
  for (let i = 1; i < steps.length; i++) {
    const a = steps[i - 1]
    const b = steps[i]
    if (a === undefined || b === undefined) continue
    t.ok(b.atMs >= a.atMs + a.holdMs + gapMs[0], `step ${i} starts after step ${i - 1}'s hold and a gap`)
  }
  t.ok(steps.every(s => s.atMs <= 300_000 * 0.8), 'nothing in the last 20%')
  t.same(chaosSchedule(3, { totalMs: 5000 }), [], 'a run shorter than the first gap has no fault')
})

t.test('holds, targets and delays stay within their bounds', async t => {
  const steps = chaosSchedule(11, opts)
  for (const s of steps) {
    const window = ['webhook-down', 'webhook-flaky', 'redis-stop', 'network-delay'].includes(s.fault)
    if (window) t.ok(s.holdMs >= 3000 && s.holdMs <= 30_000, `${s.fault} held ${s.holdMs} ms`)
    else t.equal(s.holdMs, 0, `${s.fault} heals by itself`)
    t.ok(s.target >= 0 && s.target < (s.fault.startsWith('broker') ? 3 : 2), `${s.fault} target ${s.target}`)
    if (s.fault === 'network-delay') t.ok(s.delayMs > 0 && s.delayMs <= MAX_DELAY_MS && s.jitterMs <= MAX_JITTER_MS, `delay ${s.delayMs}+${s.jitterMs} ms`)
    else t.equal(s.delayMs + s.jitterMs, 0)
  }
})
