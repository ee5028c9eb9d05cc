import t from 'tap'
import { growthOf, slopePerMinute, type Sample } from '../../bench/lib/growth.js'

const MIB = 1024 * 1024
const series = (n: number, f: (s: number) => number): Sample[] => Array.from({ length: n }, (_, i) => ({ atS: i, bytes: f(i) }))

t.test('a flat series has no slope, whatever its sawtooth', async t => {
  // a GC sawtooth: 100–110 MiB every 10 s
  const g = growthOf(series(600, s => (100 + (s % 10)) * MIB), 60, 60)
  t.ok(Math.abs(g.slopeBytesPerMin) < 0.1 * MIB, `slope ${g.slopeBytesPerMin / MIB} MiB/min`)
  t.ok(Math.abs(g.firstWindowBytes - g.lastWindowBytes) <= MIB, 'the windows agree within a tooth')
  t.ok(g.lastToFirst > 0.99 && g.lastToFirst < 1.01, `last/first ${g.lastToFirst}`)
  t.equal(g.samples, 540, 'the warm-up is left out')
})

t.test('a leak shows as its rate per minute and in the windows', async t => {
  // 2 MiB per minute on top of 100 MiB
  const g = growthOf(series(600, s => 100 * MIB + (s / 60) * 2 * MIB), 60, 60)
  t.ok(Math.abs(g.slopeBytesPerMin - 2 * MIB) < 1024, `slope ${g.slopeBytesPerMin / MIB} MiB/min`)
  t.ok(g.lastToFirst > 1.1, `last/first ${g.lastToFirst}`)
})

t.test('one spike moves neither window median', async t => {
  const g = growthOf(series(600, s => (s === 590 ? 500 : 100) * MIB), 60, 60)
  t.equal(g.lastWindowBytes, 100 * MIB)
})

t.test('edge cases', async t => {
  t.equal(slopePerMinute([]), 0)
  t.equal(slopePerMinute([{ atS: 1, bytes: 5 }]), 0)
  t.throws(() => growthOf(series(10, () => 1), 60, 60), /no samples after the 60 s warm-up/)
})
