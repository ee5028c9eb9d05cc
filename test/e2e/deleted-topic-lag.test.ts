/**
 * Lag measurement reads offsets through an admin of its own: after a consumed topic is deleted, the shared
 * admin (topic checks, dead-letter topic creation) keeps working, and lag keeps being measured for the
 * groups that remain.
 */
import t from 'tap'
import { uniqueName, waitFor } from '../helpers/build.js'
import { FAST_CONSUMER, createTopic, defineGroup, e2eGateway, metricsText, postMessages, sample } from './helpers/gateway.js'
import { startHook } from './helpers/hook.js'
import { createTopicsAndWait } from '../../src/kafka/create-topics.js'

t.test('deleting a consumed topic poisons neither the shared admin nor later lag measurements', async t => {
  const app = await e2eGateway(t)
  const doomed = await createTopic(app, 1, 'lag-doomed')
  const kept = await createTopic(app, 1, 'lag-kept')
  const hook = await startHook(t)
  const doomedGroup = uniqueName('lag-doomed')
  const keptGroup = uniqueName('lag-kept')
  await defineGroup(app, doomedGroup, { isPartitionAssign: false, fromBeginning: true, topics: [{ name: doomed }], webhook: { url: hook.url }, consumer: FAST_CONSUMER })
  await defineGroup(app, keptGroup, { isPartitionAssign: false, fromBeginning: true, topics: [{ name: kept }], webhook: { url: hook.url }, consumer: FAST_CONSUMER })
  await postMessages(app, doomed, [{ value: 'a' }, { value: 'b' }])
  await postMessages(app, kept, [{ value: 'c' }])

  // lag has been measured for both topics (offsets of the doomed topic were read)
  await waitFor('lag of both groups', async () => {
    const m = await metricsText(app)
    return sample(m, 'gateway_consumer_lag', { group: doomedGroup, topic: doomed, partition: '0' }) === 0 &&
      sample(m, 'gateway_consumer_lag', { group: keptGroup, topic: kept, partition: '0' }) === 0
  }, 30_000)

  const del = await app.inject({ method: 'DELETE', url: `/consumers?groupId=${doomedGroup}` })
  t.equal(del.statusCode, 200)
  const admin = await app.kafka.connectedAdmin()
  await admin.deleteTopics({ topics: [doomed] })
  await waitFor('the deletion to be visible', async () => !(await admin.listTopics()).includes(doomed), 20_000)

  // the shared admin still creates topics (dead-letter topics depend on it)
  const fresh = uniqueName('lag-fresh')
  await createTopicsAndWait(admin, { topics: [{ topic: fresh, numPartitions: 1 }] })
  t.ok((await admin.listTopics()).includes(fresh), 'the shared admin created a topic after the deletion')

  // and lag is still measured for the remaining group: it rises when a record is held, then returns to 0
  await postMessages(app, kept, [{ value: 'd' }, { value: 'e' }])
  await waitFor('the new records delivered', () => hook.ok().filter(h => h.body.topic === kept).length >= 3, 30_000)
  const before = (await app.inject({ method: 'GET', url: `/consumer-groups/${keptGroup}` })).json()
  const updatedAt = (): string | undefined => Object.values(before.instances as Record<string, { lagUpdatedAt?: string }>)[0]?.lagUpdatedAt
  const first = updatedAt()
  await waitFor('a later lag measurement', async () => {
    const view = (await app.inject({ method: 'GET', url: `/consumer-groups/${keptGroup}` })).json()
    const inst = Object.values(view.instances as Record<string, { lagUpdatedAt?: string, lag?: number }>)[0]
    return inst?.lagUpdatedAt !== undefined && inst.lagUpdatedAt !== first && inst.lag === 0
  }, 20_000)
  t.pass('lag measured again after the deletion')
})
