/**
 * createTopicsAndWait: answers whether it created the topics and returns only once every new partition
 * has a leader (kafkajs' waitForLeaders throws UNKNOWN_TOPIC_OR_PARTITION while a KRaft broker catches up).
 */
import t from 'tap'
import { build, uniqueName } from '../helpers/build.js'
import { createTopicsAndWait } from '../../src/kafka/create-topics.js'

t.test('creates topics, waits for every leader, and answers false for topics that exist', async t => {
  const app = await build(t)
  const admin = await app.kafka.connectedAdmin()
  const topics = [uniqueName('create-a'), uniqueName('create-b')]
  t.equal(await createTopicsAndWait(admin, { topics: topics.map(topic => ({ topic, numPartitions: 3 })) }), true, 'created')
  const { topics: meta } = await admin.fetchTopicMetadata({ topics })
  t.same(meta.map(m => m.partitions.length), [3, 3], 'both topics with their partitions')
  t.ok(meta.every(m => m.partitions.every(p => p.leader >= 0)), 'every partition has a leader on return')
  t.equal(await createTopicsAndWait(admin, { topics: [{ topic: topics[0] as string, numPartitions: 3 }] }), false, 'an existing topic: false, no error')
  t.equal(await createTopicsAndWait(admin, { topics: [{ topic: uniqueName('create-v'), numPartitions: 1 }], validateOnly: true }), true, 'validateOnly does not wait for a topic that is not made')
})
