/**
 * Topics over HTTP (issue 12, item 2) against the real broker: list (internal topics hidden), describe
 * (partitions, offsets, the topic's own configs), create (201, 409, 400 for names, configs and a
 * replication factor above the broker count), delete (204, 404), partition offsets, and 503 naming
 * Kafka when it is unreachable.
 */
import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { build, uniqueName, waitFor } from '../helpers/build.js'
import { errorShapeProblem, type ErrorBody } from '../helpers/error-shape.js'
import { postMessages } from '../e2e/helpers/gateway.js'
import { createTopicsAndWait } from '../../src/kafka/create-topics.js'

const createTopic = (app: FastifyInstance, body: unknown): Promise<LightMyRequestResponse> =>
  app.inject({ method: 'POST', url: '/topics', payload: body as object })

/** The error body, after checking the one error shape. */
function errorOf (t: Test, res: LightMyRequestResponse, status: number): ErrorBody {
  t.equal(res.statusCode, status, `answers ${status}`)
  t.equal(errorShapeProblem(status, res.body, res.headers['content-type']), undefined, 'in the error shape')
  return res.json() as ErrorBody
}

t.test('create, list, describe, delete', async t => {
  const app = await build(t)
  const name = uniqueName('topics-crud')
  const created = await createTopic(app, { name, partitions: 3, replicationFactor: 1, configs: { 'retention.ms': '3600000', 'cleanup.policy': 'compact' } })
  t.equal(created.statusCode, 201, created.body)
  t.equal(created.headers.location, `/topics/${name}`)
  t.same(created.json(), { name, partitions: 3, replicationFactor: 1, internal: false, configs: { 'retention.ms': '3600000', 'cleanup.policy': 'compact' } })

  const list = await app.inject({ method: 'GET', url: '/topics' })
  t.equal(list.statusCode, 200)
  const listed = (list.json() as { topics: Array<{ name: string }> }).topics
  t.same(listed.find(x => x.name === name), { name, partitions: 3, replicationFactor: 1, internal: false }, 'listed with its partition count')
  t.same(listed.map(x => x.name), [...listed.map(x => x.name)].sort((a, b) => a.localeCompare(b)), 'sorted by name')

  await postMessages(app, name, [{ key: 'k', value: 'a', partitions: [1] }, { key: 'k', value: 'b', partitions: [1] }]) // compacted: keyed
  const view = await app.inject({ method: 'GET', url: `/topics/${name}` })
  t.equal(view.statusCode, 200, view.body)
  const v = view.json() as { partitions: Array<Record<string, unknown>>, configs: Record<string, string> }
  t.same(v.configs, { 'retention.ms': '3600000', 'cleanup.policy': 'compact' }, 'only the configs set on the topic')
  t.equal(v.partitions.length, 3)
  for (const [i, p] of v.partitions.entries()) {
    t.match(p, { partition: i, leader: Number, replicas: [Number], isr: [Number], offlineReplicas: [], earliest: '0', latest: i === 1 ? '2' : '0' }, `partition ${i}`)
  }

  const deleted = await app.inject({ method: 'DELETE', url: `/topics/${name}` })
  t.equal(deleted.statusCode, 204)
  t.equal(deleted.body, '')
  await waitFor('the deleted topic to be gone', async () => (await app.inject({ method: 'GET', url: `/topics/${name}` })).statusCode === 404)
  const again = errorOf(t, await app.inject({ method: 'DELETE', url: `/topics/${name}` }), 404)
  t.match(again, { code: 'GW_TOPIC_NOT_FOUND', details: [{ field: 'params/topic', rule: 'topicExists' }] })
  t.notMatch(again.message, /AUTO_CREATE_TOPICS/, 'no produce hint on a topic route')
  t.match(errorOf(t, await app.inject({ method: 'GET', url: `/topics/${uniqueName('absent')}` }), 404), { code: 'GW_TOPIC_NOT_FOUND' })
})

t.test('internal topics are listed only with ?internal=true and never deleted', async t => {
  const app = await build(t)
  const internal = `__${uniqueName('gw-internal')}`
  const admin = await app.kafka.connectedAdmin()
  await createTopicsAndWait(admin, { topics: [{ topic: internal }] })
  t.teardown(() => admin.deleteTopics({ topics: [internal] }))
  const names = async (query: string): Promise<string[]> => ((await app.inject({ method: 'GET', url: `/topics${query}` })).json() as { topics: Array<{ name: string }> }).topics.map(x => x.name)
  t.notOk((await names('')).includes(internal), 'hidden by default')
  t.ok((await names('?internal=false')).every(n => !n.startsWith('__')), 'no internal topic at all by default')
  t.ok((await names('?internal=true')).includes(internal), 'listed with internal=true')
  const refused = errorOf(t, await app.inject({ method: 'DELETE', url: `/topics/${internal}` }), 400)
  t.match(refused, { code: 'GW_VALIDATION', details: [{ field: 'params/topic', rule: 'internalTopic' }] })
  t.match(errorOf(t, await app.inject({ method: 'GET', url: '/topics?internal=maybe' }), 400), { details: [{ field: 'querystring/internal' }] })
})

t.test('POST /topics: 409 when it exists, 400 naming Kafka\'s rule for names, configs and the replication factor', async t => {
  const app = await build(t)
  const name = uniqueName('topics-rules')
  t.equal((await createTopic(app, { name })).statusCode, 201, 'broker defaults')
  t.teardown(() => app.inject({ method: 'DELETE', url: `/topics/${name}` }))
  t.match(errorOf(t, await createTopic(app, { name, partitions: 2 }), 409), { code: 'GW_CONFLICT', message: `topic "${name}" already exists`, details: [{ field: 'body/name' }] })

  const names: Array<[string, RegExp]> = [
    ['', /must not be empty/], ['.', /must not be "\." or "\.\."/], ['..', /must not be "\." or "\.\."/],
    ['a'.repeat(250), /at most 249 characters/], ['has space', /only ASCII letters, digits/], ['ümlaut', /only ASCII letters, digits/]
  ]
  for (const [bad, rule] of names) {
    t.match(errorOf(t, await createTopic(app, { name: bad }), 400), { code: 'GW_VALIDATION', message: rule, details: [{ field: 'body/name', rule: 'topicName' }] }, JSON.stringify(bad))
  }
  t.match(errorOf(t, await app.inject({ method: 'GET', url: '/topics/has%20space' }), 400), { details: [{ field: 'params/topic', rule: 'topicName' }] })

  const fresh = uniqueName('topics-bad')
  const unknownConfig = errorOf(t, await createTopic(app, { name: fresh, configs: { 'no.such.config': '1' } }), 400)
  t.match(unknownConfig, { code: 'GW_VALIDATION', message: /^body\/configs\/no\.such\.config: Kafka refused topic config no\.such\.config="1": .+ \(INVALID_CONFIG\)$/, details: [{ field: 'body/configs/no.such.config', rule: 'topicConfig' }] })
  t.comment(unknownConfig.message)
  const badValue = errorOf(t, await createTopic(app, { name: fresh, configs: { 'cleanup.policy': 'compact', 'retention.ms': 'soon', 'segment.ms': '600000' } }), 400)
  t.match(badValue, { details: [{ field: 'body/configs/retention.ms', rule: 'topicConfig' }] }, 'the config at fault is named among several')
  t.match(errorOf(t, await createTopic(app, { name: fresh, configs: { 'retention.ms': 5 } }), 400), { details: [{ field: 'body/configs/retention.ms', rule: 'type' }] }, 'values are strings')

  const brokers = (await (await app.kafka.connectedAdmin()).describeCluster()).brokers.length
  const rf = errorOf(t, await createTopic(app, { name: fresh, replicationFactor: brokers + 2 }), 400)
  t.match(rf, { code: 'GW_VALIDATION', details: [{ field: 'body/replicationFactor', rule: 'brokerCount' }] })
  t.match(rf.message, `the ${brokers} broker${brokers === 1 ? '' : 's'} of the cluster`, 'says how many brokers there are')
  t.match(errorOf(t, await createTopic(app, { name: fresh, partitions: 0 }), 400), { details: [{ field: 'body/partitions', rule: 'minimum' }] })
  t.match(errorOf(t, await createTopic(app, { name: fresh, extra: 1 }), 400), { details: [{ field: 'body/extra', rule: 'additionalProperties' }] })
  const list = (await app.inject({ method: 'GET', url: '/topics' })).json() as { topics: Array<{ name: string }> }
  t.notOk(list.topics.some(x => x.name === fresh), 'no refused request created the topic')
})

t.test('partition offsets: earliest and latest; an unknown partition names the partition count', async t => {
  const app = await build(t)
  const name = uniqueName('topics-offsets')
  t.equal((await createTopic(app, { name, partitions: 2 })).statusCode, 201)
  t.teardown(() => app.inject({ method: 'DELETE', url: `/topics/${name}` }))
  await postMessages(app, name, [{ value: 1, partitions: [0] }, { value: 2, partitions: [0] }, { value: 3, partitions: [0] }])
  const res = await app.inject({ method: 'GET', url: `/topics/${name}/partitions/0/offsets` })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { topic: name, partition: 0, earliest: '0', latest: '3' })
  t.same((await app.inject({ method: 'GET', url: `/topics/${name}/partitions/1/offsets` })).json(), { topic: name, partition: 1, earliest: '0', latest: '0' })
  for (const route of ['offsets', 'records']) {
    const out = errorOf(t, await app.inject({ method: 'GET', url: `/topics/${name}/partitions/2/${route}` }), 400)
    t.match(out, { code: 'GW_PARTITION_OUT_OF_RANGE', message: /has 2 partitions \(0-1\)/, details: [{ field: 'params/partition', rule: 'partitionRange', partitionCount: 2 }] }, `${route}: names the partition count`)
    t.match(errorOf(t, await app.inject({ method: 'GET', url: `/topics/${name}/partitions/-1/${route}` }), 400), { details: [{ field: 'params/partition' }] })
    t.match(errorOf(t, await app.inject({ method: 'GET', url: `/topics/${uniqueName('absent')}/partitions/0/${route}` }), 404), { code: 'GW_TOPIC_NOT_FOUND' })
  }
})

t.test('Kafka unreachable: 503 naming Kafka on every topic route', async t => {
  const app = await build(t, { KAFKA_BROKERS: '127.0.0.1:1', KAFKA_CONNECTION_TIMEOUT_MS: '300' })
  const requests: Array<{ method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object }> = [
    { method: 'GET', url: '/topics' }, { method: 'GET', url: '/topics/orders' }, { method: 'POST', url: '/topics', payload: { name: 'orders' } },
    { method: 'DELETE', url: '/topics/orders' }, { method: 'GET', url: '/topics/orders/partitions/0/offsets' }, { method: 'GET', url: '/topics/orders/partitions/0/records' }
  ]
  for (const r of requests) {
    const body = errorOf(t, await app.inject(r), 503)
    t.equal(body.code, 'GW_KAFKA_UNAVAILABLE', `${r.method} ${r.url}`)
    t.match(body.message, /^Kafka is unreachable/, 'names Kafka')
  }
})
