/**
 * GET /consumer-groups/{groupId} through two instances sharing one registry: each instance's view shows
 * both instances, per partition, with delivered, retried, dead-lettered, in-flight, last status, last
 * error and lag — the other instance's numbers read from its status in Redis.
 */
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { uniqueName, waitFor } from '../helpers/build.js'
import { FAST_CONSUMER, createTopic, defineGroup, e2eGateway, groupView, postMessages, registryKey, type GroupViewJson, type PartitionView } from './helpers/gateway.js'
import { startHook, type Reply } from './helpers/hook.js'

const PER_PARTITION = 10

t.test('every instance\'s view shows every instance, per partition', async t => {
  const key = registryKey(t)
  const a = await e2eGateway(t, { registryKey: key, clientId: uniqueName('gw-a') })
  const b = await e2eGateway(t, { registryKey: key, clientId: uniqueName('gw-b') })
  const ids = [a.kafka.clientId, b.kafka.clientId]
  const topic = await createTopic(a, 4, 'status')
  const groupId = uniqueName('status')

  let release: () => void = () => {}
  const held = new Promise<void>(resolve => { release = resolve })
  let failed = false
  const hook = await startHook(t, async (hit): Promise<Reply> => {
    const v = String(hit.body.value)
    if (v === 'p0-5') await held
    if (v === 'p1-3' && !failed) { failed = true; return { status: 500 } }
    if (v === 'p2-7') return { status: 422 }
    return { status: 204 }
  })
  await defineGroup(a, groupId, { isPartitionAssign: false, fromBeginning: true, topics: [{ name: topic }], webhook: { url: hook.url }, consumer: FAST_CONSUMER })
  await waitFor('both instances to hold partitions', async () => {
    const v = await groupView(b, groupId)
    return ids.every(id => (v.instances[id]?.partitions[topic]?.length ?? 0) === 2)
  }, 30_000)

  const messages = [0, 1, 2, 3].flatMap(p => Array.from({ length: PER_PARTITION }, (_v, i) => ({ value: `p${p}-${i}`, partitions: [p] })))
  await postMessages(a, topic, messages)

  const partitionOf = (v: GroupViewJson, p: number): { id: string, s: PartitionView } | undefined => {
    for (const id of ids) {
      const s = v.instances[id]?.byPartition.find(x => x.partition === p && x.assigned)
      if (s !== undefined) return { id, s }
    }
    return undefined
  }

  // while p0-5 is held: the owner of partition 0 shows it in flight, with lag, in both instances' views
  for (const [name, app] of [['a', a], ['b', b]] as Array<[string, FastifyInstance]>) {
    const p0 = await waitFor(`${name}'s view of partition 0 in flight`, async () => {
      const found = partitionOf(await groupView(app, groupId), 0)
      return found?.s.inFlight === 1 && found.s.delivered === 5 && found.s.lag === PER_PARTITION - 5 && found.s.committedOffset === '5' ? found : undefined
    }, 15_000)
    t.equal(p0.s.committedOffset, '5', `${name}: partition 0 committed up to the held record while it waits`)
    t.equal(p0.s.highWatermark, String(PER_PARTITION))
  }
  release()

  const settled = (v: GroupViewJson): boolean => [0, 1, 2, 3].every(p => {
    const s = partitionOf(v, p)?.s
    return s !== undefined && s.delivered + s.deadLettered === PER_PARTITION && s.lag === 0 && s.inFlight === 0
  })
  for (const [name, app] of [['a', a], ['b', b]] as Array<[string, FastifyInstance]>) {
    const v = await waitFor(`${name}'s view to settle`, async () => {
      const view = await groupView(app, groupId)
      return settled(view) ? view : undefined
    }, 20_000)
    t.same(Object.keys(v.instances).sort(), [...ids].sort(), `${name}: both instances listed`)
    const p1 = partitionOf(v, 1)?.s
    t.match(p1, { delivered: PER_PARTITION, retried: 1, deadLettered: 0, lastStatus: 204 }, `${name}: partition 1 retried once`)
    t.match(p1?.lastError, /offset 3, attempt 1: HTTP 500/)
    const p2 = partitionOf(v, 2)?.s
    t.match(p2, { delivered: PER_PARTITION - 1, retried: 0, deadLettered: 1, lastStatus: 204 }, `${name}: partition 2 dead-lettered one`)
    t.match(p2?.lastError, /dead-lettered offset 7: HTTP 422/)
    t.match(partitionOf(v, 0)?.s, { delivered: PER_PARTITION, retried: 0, deadLettered: 0, lastStatus: 204 })
    for (const id of ids) {
      const s = v.instances[id]
      t.ok(s !== undefined && s.lag === 0 && s.lagUpdatedAt !== null && s.byPartition.filter(p => p.assigned).length === 2, `${name}: ${id} has 2 partitions, lag 0`)
      t.equal(s?.delivered, s?.byPartition.reduce((n, p) => n + p.delivered, 0), `${name}: ${id}'s total is the sum of its partitions`)
    }
  }
  t.equal(hook.ok().length, 4 * PER_PARTITION - 1, 'every record delivered once, except the dead letter')
})
