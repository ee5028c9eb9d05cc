/**
 * A webhook that holds a request for longer than the group's session timeout (6 s) costs the consumer
 * nothing: the deliverer heartbeats while it waits, the group never rebalances, and the records after the
 * stalled one are delivered once, in order.
 */
import t from 'tap'
import { captureLogger, uniqueName, waitFor } from '../helpers/build.js'
import { createTopic, defineGroup, e2eGateway, groupView, postMessages } from './helpers/gateway.js'
import { startHook, type Reply } from './helpers/hook.js'

const SESSION_TIMEOUT_MS = 6000
const STALL_MS = 8000

t.test('a stall longer than the session timeout causes no rebalance and no duplicate', async t => {
  const { logger, logs } = captureLogger('info')
  const app = await e2eGateway(t, { logger })
  const topic = await createTopic(app, 1, 'stall')
  const groupId = uniqueName('stall')
  let stalledFor = 0
  const hook = await startHook(t, async (hit): Promise<Reply> => {
    if (hit.body.value === 'slow') {
      const started = Date.now()
      await new Promise(resolve => setTimeout(resolve, STALL_MS))
      stalledFor = Date.now() - started
    }
    return { status: 204 }
  })
  await defineGroup(app, groupId, {
    isPartitionAssign: false,
    fromBeginning: true,
    topics: [{ name: topic }],
    webhook: { url: hook.url, timeoutMs: 20_000 },
    consumer: { sessionTimeoutMs: SESSION_TIMEOUT_MS, heartbeatIntervalMs: 500, maxWaitTimeMs: 100 }
  })
  const joined = (): number => logs.lines().filter(l => l.event === 'JOIN_GROUP' && l.groupId === groupId).length
  await waitFor('the group to join', () => joined() === 1, 30_000)

  const values = ['first', 'slow', 'after-1', 'after-2', 'after-3']
  await postMessages(app, topic, values.map(value => ({ value })))
  await waitFor('the stalled request to arrive', () => hook.hits.some(h => h.body.value === 'slow'), 30_000)
  const stalled = await waitFor('the status to show the record in flight', async () => {
    const s = (await groupView(app, groupId)).instances[app.kafka.clientId]
    return s?.inFlight === 1 ? s : undefined
  }, 5000)
  t.equal(stalled.byPartition[0]?.inFlight, 1, 'in flight on partition 0')

  await waitFor('every record delivered', () => values.every(v => hook.ok().some(h => h.body.value === v)), STALL_MS + 20_000)
  t.ok(stalledFor >= STALL_MS - 50, `the webhook held the request ${stalledFor} ms (session timeout ${SESSION_TIMEOUT_MS} ms)`)
  t.same(hook.hits.map(h => h.body.value), values, 'each record once, in order: no re-delivery after the stall')
  // a rebalance would show as a second join (kafkajs rejoins after a lost membership)
  await waitFor('the status to settle', async () => (await groupView(app, groupId)).instances[app.kafka.clientId]?.lag === 0, 10_000)
  t.equal(joined(), 1, 'JOIN_GROUP logged once: no rebalance')
  t.notOk(logs.lines().some(l => typeof l.msg === 'string' && /rebalanc/i.test(l.msg) && l.groupId === groupId), 'no rebalance logged')
})
