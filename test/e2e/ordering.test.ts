/**
 * Ordering within each partition under ~1 % injected failures, through the gateway: 300 records over 3
 * partitions produced with POST /messages, a group delivering them to a real receiver that answers 5xx
 * (or 429 with Retry-After) to a few attempts. Every record is delivered, nothing is dead-lettered, and per
 * partition the attempts never go back: the sequence of successful deliveries is exactly offset order.
 */
import t from 'tap'
import { uniqueName, waitFor } from '../helpers/build.js'
import { FAST_CONSUMER, createTopic, defineGroup, e2eGateway, groupView, postMessages } from './helpers/gateway.js'
import { byPartition, startHook, type Hit } from './helpers/hook.js'

const N = 300
const PARTITIONS = 3

t.test('per-partition order holds under ~1% injected 5xx; every record delivered once', async t => {
  const app = await e2eGateway(t)
  const topic = await createTopic(app, PARTITIONS, 'order')
  const groupId = uniqueName('order')

  // the first attempt of every 100th record (from #7) fails; #207 fails twice, once with 429 + Retry-After
  const failures = new Map<number, number>([[7, 1], [107, 1], [207, 2]])
  const seen = new Map<number, number>()
  let injected = 0
  const hook = await startHook(t, (hit: Hit) => {
    const seq = (hit.body.value as { seq: number }).seq
    const n = (seen.get(seq) ?? 0) + 1
    seen.set(seq, n)
    if (n <= (failures.get(seq) ?? 0)) {
      injected++
      return n === 2 ? { status: 429, headers: { 'retry-after': '1' } } : { status: seq === 107 ? 500 : 503 }
    }
    return { status: 204 }
  })

  const produced = await postMessages(app, topic, Array.from({ length: N }, (_v, seq) => ({ value: { seq }, partitions: [seq % PARTITIONS] })))
  t.equal(produced.length, N)
  await defineGroup(app, groupId, { isPartitionAssign: false, fromBeginning: true, topics: [{ name: topic }], webhook: { url: hook.url }, consumer: FAST_CONSUMER })

  await waitFor('every record delivered', () => new Set(hook.ok().map(h => (h.body.value as { seq: number }).seq)).size === N, 60_000)
  t.equal(injected, 4, '4 failed attempts injected (4 of 304 attempts, ~1.3 %)')
  t.equal(hook.hits.length, N + injected, 'one attempt per record plus one per injected failure: no duplicates')

  for (const [partition, hits] of byPartition(hook.hits)) {
    const attempts = hits.map(h => Number(h.body.offset))
    t.ok(attempts.every((o, i) => i === 0 || o >= (attempts[i - 1] as number)), `partition ${partition}: attempts never go back to an earlier offset`)
    const firstOk: number[] = []
    const done = new Set<number>()
    for (const h of hits) {
      const o = Number(h.body.offset)
      if (h.status !== undefined && h.status < 300 && !done.has(o)) { done.add(o); firstOk.push(o) }
    }
    t.same(firstOk, Array.from({ length: N / PARTITIONS }, (_v, i) => i), `partition ${partition}: first successful deliveries in offset order 0..${N / PARTITIONS - 1}`)
    // the record's own seq matches its offset order (produced in seq order per partition)
    const seqs = hits.filter(h => h.status === 204).map(h => (h.body.value as { seq: number }).seq)
    t.same(seqs, [...seqs].sort((a, b) => a - b), `partition ${partition}: payloads in production order`)
  }
  const retried = hook.hits.filter(h => h.status !== 204)
  for (const r of retried) {
    const next = hook.hits.find(h => h !== r && h.body.partition === r.body.partition && h.body.offset === r.body.offset && h.at >= r.at)
    t.equal(next?.headers['webhook-id'], r.headers['webhook-id'], `offset ${r.body.partition}/${r.body.offset}: the retry carries the same webhook-id`)
  }

  // the visible state counts the same: delivered and retried per partition, nothing dead-lettered, lag 0
  const view = await waitFor('status to show every delivery and lag 0', async () => {
    const v = await groupView(app, groupId)
    const s = v.instances[app.kafka.clientId]
    return s !== undefined && s.delivered === N && s.lag === 0 ? s : undefined
  }, 15_000)
  t.equal(view.retried, injected, 'retried counts every retry scheduled')
  t.equal(view.deadLettered, 0)
  t.equal(view.inFlight, 0)
  t.equal(view.lastStatus, 204)
  t.same(view.byPartition.map(p => [p.partition, p.assigned, p.delivered, p.deadLettered, p.inFlight, p.lag]), [0, 1, 2].map(p => [p, true, N / PARTITIONS, 0, 0, 0]))
  const retriedPerPartition = [0, 1, 2].map(p => view.byPartition.find(x => x.partition === p)?.retried)
  const expected = [0, 1, 2].map(p => [...failures].filter(([seq]) => seq % PARTITIONS === p).reduce((n, [, k]) => n + k, 0))
  t.same(retriedPerPartition, expected, 'retries counted on the partitions of the failing records')
  t.match(view.byPartition.find(p => p.partition === 0)?.lastError ?? '', /HTTP 429/, 'lastError names the last failed attempt')
})
