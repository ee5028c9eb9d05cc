import t from 'tap'
import kafkajs from 'kafkajs'
import { build, uniqueName } from '../helpers/build.js'
import { readRecords } from '../produce/helpers.js'

t.test('AUTO_CREATE_TOPICS off (the default): unknown topic → 404 and nothing is created', async t => {
  const app = await build(t)
  const topic = uniqueName('not-created')
  const res = await app.inject({ method: 'POST', url: '/messages', payload: { topic, value: 1 } })
  t.equal(res.statusCode, 404)
  t.match(res.json(), { code: 'GW_TOPIC_NOT_FOUND' })
  const admin = await app.kafka.connectedAdmin()
  t.notOk((await admin.listTopics()).includes(topic), 'the topic was not created')
})

t.test('AUTO_CREATE_TOPICS=true: the first produce creates the topic with the broker defaults, once, under concurrency', async t => {
  const app = await build(t, { AUTO_CREATE_TOPICS: 'true' })
  const topic = uniqueName('auto')
  const answers = await Promise.all(Array.from({ length: 6 }, (_, i) =>
    app.inject({ method: 'POST', url: '/messages', payload: { topic, value: `first-${i}` } })))
  t.same(answers.map(a => a.statusCode), [200, 200, 200, 200, 200, 200])

  const admin = await app.kafka.connectedAdmin()
  const { brokers } = await admin.describeCluster()
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: kafkajs.ConfigResourceTypes.BROKER, name: String(brokers[0]?.nodeId), configNames: ['num.partitions'] }]
  })
  const defaultPartitions = Number(resources[0]?.configEntries[0]?.configValue)
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
  t.equal(topics[0]?.partitions.length, defaultPartitions, `created with the broker's num.partitions (${defaultPartitions})`)

  const records = await readRecords(t, app, topic, 6)
  t.same(records.map(r => r.value?.toString()).sort(), answers.map((_, i) => `first-${i}`).sort())

  // naming rules still apply: nothing is created for an illegal name
  const bad = await app.inject({ method: 'POST', url: '/messages', payload: { topic: 'bad name', value: 1 } })
  t.equal(bad.statusCode, 400)
  // partitions are checked against the created topic
  const out = await app.inject({ method: 'POST', url: '/messages', payload: { topic: uniqueName('auto-parts'), partitions: [defaultPartitions], value: 1 } })
  t.equal(out.statusCode, 400)
  t.match(out.json(), { code: 'GW_PARTITION_OUT_OF_RANGE' })
})
