/**
 * Registry fields written by others (syrup-kafka, an operator's HSET, a bug) never make a registry route
 * fail: GET /consumers shows them as found, flagged; `arrival` to them is a 422 naming the rule; the sweep
 * leaves them alone; and random fields written while the routes are served never give a 5xx.
 */
import fc from 'fast-check'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { registryKeys, type RegistryKeys } from '../../src/registry/keys.js'
import { WHOLE_FIELD } from '../../src/registry/entry-shape.js'
import { build, uniqueName, waitFor } from '../helpers/build.js'
import { createTopic } from '../produce/helpers.js'

const syrup = (topic: string): string => JSON.stringify({ [topic]: { groupId: 'sg', memberId: 'sm', leaderId: 'sm', isLeader: true, groupProtocol: 'custom-assigner', partitions: [0] } })

async function setup (t: Test): Promise<{ app: FastifyInstance, keys: RegistryKeys, topic: string }> {
  const registryKey = uniqueName('registry')
  const app = await build(t, { REGISTRY_KEY: registryKey, REGISTRY_HEARTBEAT_MS: '200' })
  const keys = registryKeys(registryKey)
  t.teardown(async () => { await app.redis.redis.del(keys.registry, keys.gateways) })
  const topic = uniqueName('foreign')
  await createTopic(app, topic, 2)
  return { app, keys, topic }
}

t.test('foreign fields of every shape: GET /consumers answers 200 with them flagged, filters included; arrival 422; the sweep keeps them', async t => {
  const { app, keys, topic } = await setup(t)
  const redis = app.redis.redis
  const fields: Record<string, string> = {
    'not-json': '{oops',
    'json-array': '[1,2,3]',
    'other-shape': JSON.stringify({ [topic]: { groupProtocol: 'custom-assigner', partitions: 'all' } }),
    'wrong-types': JSON.stringify({ [topic]: { groupId: 5, memberId: null, partitions: [0] } }),
    huge: JSON.stringify({ [topic]: { groupId: 'h', partitions: 'p'.repeat(200_000) } }),
    'unknown-topic': syrup('no-such-topic-anywhere'),
    'syrup-kafka': syrup(topic)
  }
  for (const [client, value] of Object.entries(fields)) await redis.hset(keys.registry, client, value)
  // a gateway that is provably dead (listed, no heartbeat): the sweep removes it, and only it
  await redis.hset(keys.registry, 'dead-gateway', syrup(topic))
  await redis.sadd(keys.gateways, 'dead-gateway')

  const all = await app.inject({ method: 'GET', url: '/consumers' })
  t.equal(all.statusCode, 200, all.body)
  const body = all.json()
  t.match(body['not-json'][WHOLE_FIELD], { unreadable: /^not JSON/, raw: '{oops' })
  t.same(body['json-array'][WHOLE_FIELD], { unreadable: 'expected a JSON object of topics, found [1,2,3]', raw: [1, 2, 3] })
  t.same(body['other-shape'][topic], { unreadable: 'groupId: expected a string, found undefined', raw: { groupProtocol: 'custom-assigner', partitions: 'all' } })
  t.equal(body['wrong-types'][topic].unreadable, 'groupId: expected a string, found 5')
  t.ok(body.huge[topic].raw.length < 5000, 'a huge value is shown as a preview')
  t.same(body['unknown-topic'], JSON.parse(fields['unknown-topic'] as string), 'readable entries as they are')
  t.same(body['syrup-kafka'], JSON.parse(fields['syrup-kafka'] as string))

  for (const url of [`/consumers?topic=${topic}`, '/consumers?groupId=sg', '/consumers?clientId=not-json', '/consumers?clientId=other-shape', `/consumers?groupId=sg&topic=${topic}`]) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 200)}`)
  }
  const byTopic = (await app.inject({ method: 'GET', url: `/consumers?topic=${topic}` })).json()
  t.ok(byTopic['other-shape']?.[topic]?.unreadable !== undefined, 'a flagged topic stays visible under its topic filter')
  t.notOk(byTopic['not-json'], 'a whole unreadable field cannot match a topic filter')
  t.same(Object.keys((await app.inject({ method: 'GET', url: '/consumers?groupId=sg' })).json()).sort(), ['syrup-kafka', 'unknown-topic'],
    'the group filter: entries of that group (a dead gateway is never listed)')

  for (const client of ['not-json', 'json-array', 'other-shape', 'wrong-types', 'huge', 'unknown-topic']) {
    const res = await app.inject({ method: 'POST', url: '/messages', payload: { topic, arrival: client, value: 'x' } })
    t.equal(res.statusCode, 422, `arrival to ${client}: ${res.body.slice(0, 200)}`)
    t.equal(res.json().code, 'GW_ARRIVAL_UNROUTABLE')
    t.ok(res.json().details?.[0]?.rule, 'names the rule')
  }

  await waitFor('the sweep to remove the dead gateway', async () => (await redis.hexists(keys.registry, 'dead-gateway')) === 0, 20_000)
  for (const client of Object.keys(fields)) t.equal(await redis.hexists(keys.registry, client), 1, `the sweep kept ${client} (not provably dead)`)
})

t.test('fuzz: random fields and values written into the hash while every registry route is served never give a 5xx', async t => {
  const { app, keys, topic } = await setup(t)
  const redis = app.redis.redis
  const value = fc.oneof(
    fc.string(),
    fc.json(),
    fc.jsonValue().map(v => JSON.stringify({ [topic]: v })),
    fc.record({ groupId: fc.jsonValue(), memberId: fc.jsonValue(), groupProtocol: fc.constantFrom('custom-assigner', 'RoundRobinAssigner', 7), partitions: fc.jsonValue(), groups: fc.jsonValue() }, { requiredKeys: [] })
      .map(v => JSON.stringify({ [topic]: v }))
  )
  const client = fc.oneof(fc.constantFrom('a', 'b', 'c'), fc.string({ minLength: 1, maxLength: 20 }))
  const route = fc.constantFrom('/consumers', `/consumers?topic=${topic}`, '/consumers?groupId=sg', '/consumers?clientId=a', '/consumer-groups', '/consumer-groups/sg')
  const seen = new Map<number, number>()
  await fc.assert(fc.asyncProperty(client, value, route, async (c, v, url) => {
    await redis.hset(keys.registry, c, v)
    const [get, arrival, del] = await Promise.all([
      app.inject({ method: 'GET', url }),
      app.inject({ method: 'POST', url: '/messages', payload: { topic, arrival: c, value: 'x' } }),
      app.inject({ method: 'DELETE', url: `/consumers?clientId=${encodeURIComponent(c)}` })
    ])
    for (const res of [get, arrival, del]) seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1)
    return get.statusCode < 500 && arrival.statusCode < 500 && del.statusCode < 500
  }), { numRuns: 150 })
  t.comment(`statuses ${JSON.stringify(Object.fromEntries(seen))}`)
  t.ok((seen.get(200) ?? 0) > 0, 'the routes answered')
})
