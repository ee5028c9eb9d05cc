import t from 'tap'
import { ratioTo, repRatios, type Measured } from '../../bench/lib/contenders.js'
import { ratioLines } from '../../bench/lib/table.js'

type F = { messagesPerSec: number }
const rowOf = (reps: number[], median: number): { reps: F[], median: F } => ({ reps: reps.map(messagesPerSec => ({ messagesPerSec })), median: { messagesPerSec: median } })

t.test('each repetition\'s ratio pairs the contenders that ran in it, beside the ratio of the medians', async t => {
  const m: Measured<F> = new Map([
    ['gateway', rowOf([90, 120, 100], 100)],
    ['pusher', rowOf([100, 100, 125], 100)],
    ['peer', undefined]
  ])
  t.same(repRatios(m, 'pusher'), [0.9, 1.2, 0.8])
  t.equal(ratioTo(m, 'pusher'), 1)
  t.equal(repRatios(m, 'peer'), undefined, 'a contender that did not run has none')
  t.same(ratioLines([['gateway / pusher', ratioTo(m, 'pusher'), '≥ 1.20', repRatios(m, 'pusher')]]),
    ['  → gateway / pusher: 1.00 (target ≥ 1.20: MISSED); per repetition 0.90, 1.20, 0.80'])
  t.same(ratioLines([['one repetition', 1.5, '', [1.5]], ['not run', undefined, '≥ 1.00', undefined]]), ['  → one repetition: 1.50'],
    'one repetition adds nothing; a ratio not run has no line')
})
