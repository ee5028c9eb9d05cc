import t from 'tap'
import { partialBatch } from '../../src/consumers/runner/batch-wait.js'
import type { PartitionState } from '../../src/consumers/runner/state.js'

const pstats = (): PartitionState => ({
  topic: 't', partition: 0, assigned: true, delivered: 0, retried: 0, deadLettered: 0, inFlight: 0, lastStatus: null,
  lastError: null, lag: null, committedOffset: null, highWatermark: null, next: undefined, batchWaitSince: undefined
})

t.test('no maxBatchWaitMs: a partial batch goes at once', async t => {
  t.equal(partialBatch(undefined, pstats(), { highWatermark: '10' }, 0, '4'), 'send')
  t.equal(partialBatch(0, pstats(), { highWatermark: '10' }, 0, '4'), 'send')
})

t.test('records already in Kafka behind it: refetched at once, unless nothing was sent from this batch yet', async t => {
  t.equal(partialBatch(500, pstats(), { highWatermark: '10' }, 3, '4'), 0, 'left for the next fetch, no wait')
  t.equal(partialBatch(500, pstats(), { highWatermark: '10' }, 0, '4'), 'send', 'a fetch too small for batchSize records still makes progress')
})

t.test('at the end of the partition: waits out the rest of maxBatchWaitMs from when it was first held, then goes', async t => {
  const s = pstats()
  const left = partialBatch(500, s, { highWatermark: '5' }, 0, '4')
  t.ok(typeof left === 'number' && left > 490 && left <= 500, `waits ~500 ms (${String(left)})`)
  t.type(s.batchWaitSince, 'number', 'remembers when it began to wait')
  s.batchWaitSince = performance.now() - 400
  const rest = partialBatch(500, s, { highWatermark: '5' }, 0, '4')
  t.ok(typeof rest === 'number' && rest <= 100, `only the rest of the wait (${String(rest)})`)
  s.batchWaitSince = performance.now() - 501
  t.equal(partialBatch(500, s, { highWatermark: '6' }, 0, '5'), 'send', 'never longer than maxBatchWaitMs')
})
