import t from 'tap'
import { build, captureLogger, uniqueName, waitFor } from '../helpers/build.js'
import { startReceiver } from '../consumers/helpers/receiver.js'
import { FAST_CONSUMER, createTopic, gateway, registryKey } from '../consumers/helpers/kafka.js'
import { generateSecret } from '../../src/webhooks/signing.js'
import { definitionHash, normalizeDefinition, type GroupDefinitionInput } from '../../src/consumers/definition.js'

const HOOK = 'http://127.0.0.1:9/hook'

t.test('POST /consumer-groups validates definitions', async t => {
  const key = registryKey(t)
  const app = await gateway(t, key)
  const topic = await createTopic(app, 2)
  const post = async (payload: unknown, query = '') =>
    await app.inject({ method: 'POST', url: `/consumer-groups${query}`, payload: payload as Record<string, unknown> })
  const gid = uniqueName('g')

  t.test('isAssignPartition → 400 suggesting isPartitionAssign', async t => {
    const res = await post({ [gid]: { isAssignPartition: true, topics: [{ name: topic, partitions: [0] }], webhook: { url: HOOK } } })
    t.equal(res.statusCode, 400)
    const body = res.json()
    t.equal(body.code, 'GW_VALIDATION')
    t.match(body.message, /isPartitionAssign/)
    t.equal(body.details[0].field, `body/${gid}/isAssignPartition`)
    t.equal(body.details[0].rule, 'misspelled')
  })

  t.test('unknown properties → 400 naming them', async t => {
    const res = await post({ [gid]: { isPartitionAssign: false, topics: [{ name: topic, colour: 'red' }], webhook: { url: HOOK }, extra: 1 } })
    t.equal(res.statusCode, 400)
    const fields = res.json().details.map((d: { field: string }) => d.field)
    t.ok(fields.includes(`body/${gid}/extra`), 'names the unknown top-level property')
    t.ok(fields.includes(`body/${gid}/topics/0/colour`), 'names the unknown nested property')
    t.match(res.json().message, /unknown property/)
  })

  t.test('a bad group id, a missing webhook and an empty body → 400', async t => {
    const bad = await post({ 'bad group!': { isPartitionAssign: false, topics: [{ name: topic }], webhook: { url: HOOK } } })
    t.equal(bad.statusCode, 400)
    t.match(bad.json().details[0].field, /^body\/bad group!/)
    const noHook = await post({ [gid]: { isPartitionAssign: false, topics: [{ name: topic }] } })
    t.equal(noHook.statusCode, 400)
    t.equal(noHook.json().details[0].field, `body/${gid}/webhook`)
    const empty = await post({})
    t.equal(empty.statusCode, 400)
  })

  t.test('partition-assigned groups need partitions on every topic; round-robin ones must not have them', async t => {
    const pa = await post({ [gid]: { isPartitionAssign: true, topics: [{ name: topic }], webhook: { url: HOOK } } })
    t.equal(pa.statusCode, 400)
    t.equal(pa.json().details[0].field, `body/${gid}/topics/0/partitions`)
    const rr = await post({ [gid]: { isPartitionAssign: false, topics: [{ name: topic, partitions: [0] }], webhook: { url: HOOK } } })
    t.equal(rr.statusCode, 400)
    t.equal(rr.json().details[0].rule, 'partitionAssign')
  })

  t.test('nonexistent partitions → 400, nonexistent topics → 404 naming them', async t => {
    const res = await post({ [gid]: { isPartitionAssign: true, topics: [{ name: topic, partitions: [1, 2, 7] }], webhook: { url: HOOK } } })
    t.equal(res.statusCode, 400)
    t.equal(res.json().code, 'GW_PARTITION_OUT_OF_RANGE')
    t.same(res.json().details[0].partitions, [2, 7])
    t.match(res.json().message, /no partition 2, 7/)
    const missing = uniqueName('missing')
    const nf = await post({ [gid]: { isPartitionAssign: false, topics: [{ name: topic }, { name: missing }], webhook: { url: HOOK } } })
    t.equal(nf.statusCode, 404)
    t.equal(nf.json().code, 'GW_TOPIC_NOT_FOUND')
    t.match(nf.json().message, missing)
    t.equal(nf.json().details[0].field, `body/${gid}/topics/1/name`)
  })

  t.test('webhook URL, header and secret problems → 400 naming the field', async t => {
    const url = await post({ [gid]: { isPartitionAssign: false, topics: [{ name: topic }], webhook: { url: 'ftp://example.com/x' } } })
    t.equal(url.statusCode, 400)
    t.equal(url.json().details[0].field, `body/${gid}/webhook/url`)
    const header = await post({ [gid]: { isPartitionAssign: false, topics: [{ name: topic }], webhook: { url: HOOK, headers: { 'content-type': 'x' } } } })
    t.equal(header.statusCode, 400)
    t.equal(header.json().details[0].field, `body/${gid}/webhook/headers/content-type`)
    const secret = await post({ [gid]: { isPartitionAssign: false, topics: [{ name: topic }], webhook: { url: HOOK, secrets: ['nope'] } } })
    t.equal(secret.statusCode, 400)
    t.equal(secret.json().details[0].field, `body/${gid}/webhook/secrets/0`)
    const hb = await post({ [gid]: { isPartitionAssign: false, topics: [{ name: topic }], webhook: { url: HOOK }, consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 6000 } } })
    t.equal(hb.statusCode, 400)
    t.equal(hb.json().details[0].field, `body/${gid}/consumer/heartbeatIntervalMs`)
    const metadata = await post({ [gid]: { isPartitionAssign: false, topics: [{ name: topic }], webhook: { url: 'http://169.254.169.254/latest/meta-data' } } })
    t.equal(metadata.statusCode, 400, 'the cloud metadata address is blocked by default')
    t.equal(metadata.json().details[0].field, `body/${gid}/webhook/url`)
    t.match(metadata.json().details[0].message, /blocked address/)
    for (const batchSize of [0, 1001, 2.5, '10']) {
      const res = await post({ [gid]: { isPartitionAssign: false, topics: [{ name: topic }], webhook: { url: HOOK, batchSize } } })
      t.equal(res.statusCode, 400, `batchSize ${JSON.stringify(batchSize)}`)
      t.equal(res.json().details[0].field, `body/${gid}/webhook/batchSize`)
    }
    for (const webhook of [{ url: HOOK, batchSize: 10, maxBatchWaitMs: 5001 }, { url: HOOK, batchSize: 10, maxBatchWaitMs: -1 }, { url: HOOK, maxBatchWaitMs: 100 }]) {
      const res = await post({ [gid]: { isPartitionAssign: false, topics: [{ name: topic }], webhook } })
      t.equal(res.statusCode, 400, JSON.stringify(webhook))
      t.equal(res.json().details[0].field, `body/${gid}/webhook/maxBatchWaitMs`)
    }
    t.equal((await post({ [gid]: { isPartitionAssign: false, topics: [{ name: topic }], webhook: { url: HOOK, maxBatchWaitMs: 100 } } })).json().details[0].rule, 'batchSize', 'without batchSize above 1: named by its rule')
  })

  const res = await app.inject({ method: 'GET', url: '/consumer-groups' })
  t.same(res.json(), { groups: [] }, 'nothing invalid was stored')
})

t.test('definitions: 201 created, 200 idempotent, 409 on conflict, ?replace=true; GETs hide secrets and header values', async t => {
  const key = registryKey(t)
  const app = await gateway(t, key)
  const topic = await createTopic(app, 2)
  const gid = uniqueName('g')
  const secret = generateSecret()
  // a webhook nobody listens on: the consumer runs, deliveries are retried (no record is produced here anyway)
  const def = {
    isPartitionAssign: false,
    topics: [{ name: topic }],
    webhook: { url: HOOK, headers: { Authorization: 'Bearer top-secret-value' }, secrets: [secret] },
    consumer: FAST_CONSUMER
  }
  const first = await app.inject({ method: 'POST', url: '/consumer-groups', payload: { [gid]: def } })
  t.equal(first.statusCode, 201)
  const created = first.json()
  t.equal(created.groups[0].result, 'created')
  t.equal(created.groups[0].version, 1)
  t.same(created.groups[0].declaration.webhook.headers, ['Authorization'])
  t.equal(created.groups[0].declaration.webhook.secrets, 1)
  t.equal(created.groups[0].declaration.fromBeginning, false, 'defaults applied')
  t.equal(created.groups[0].declaration.concurrency, 6)
  t.same(created.warnings, [])

  const again = await app.inject({ method: 'POST', url: '/consumer-groups', payload: { [gid]: { ...def, fromBeginning: false } } })
  t.equal(again.statusCode, 200, 'an identical definition (defaults spelled out) is idempotent')
  t.equal(again.json().groups[0].result, 'unchanged')

  const changed = { ...def, fromBeginning: true }
  const conflict = await app.inject({ method: 'POST', url: '/consumer-groups', payload: { [gid]: changed } })
  t.equal(conflict.statusCode, 409)
  t.equal(conflict.json().code, 'GW_CONFLICT')
  t.match(conflict.json().message, /replace=true/)

  const replaced = await app.inject({ method: 'POST', url: '/consumer-groups?replace=true', payload: { [gid]: changed } })
  t.equal(replaced.statusCode, 201)
  t.equal(replaced.json().groups[0].result, 'replaced')
  t.equal(replaced.json().groups[0].version, 2)
  t.equal(replaced.json().groups[0].declaration.fromBeginning, true)

  const one = await app.inject({ method: 'GET', url: `/consumer-groups/${gid}` })
  t.equal(one.statusCode, 200)
  const view = one.json()
  t.equal(view.groupId, gid)
  t.equal(view.declarations.length, 1)
  t.equal(view.declarations[0].fromBeginning, true)
  t.notOk(one.body.includes('top-secret-value'), 'header values are never returned')
  t.notOk(one.body.includes(secret.slice(6, 20)), 'secrets are never returned')
  t.notOk('salt' in view.declarations[0], 'the hash salt is never returned')
  t.not(view.declarations[0].hash, definitionHash(normalizeDefinition(changed as GroupDefinitionInput)), 'the shown hash is salted: not recomputable from the view plus a guessed secret')

  await waitFor('the instance to run the group', async () => {
    const r = (await app.inject({ method: 'GET', url: `/consumer-groups/${gid}` })).json()
    return r.instances[app.kafka.clientId]?.running === true
  }, 30_000)
  const list = await app.inject({ method: 'GET', url: '/consumer-groups' })
  t.equal(list.statusCode, 200)
  t.same(list.json().groups.map((g: { groupId: string }) => g.groupId), [gid])
  const status = list.json().groups[0].instances[app.kafka.clientId]
  t.match(status, { state: 'running', running: true, delivered: 0, deadLettered: 0, partitions: { [topic]: [0, 1] } })
  t.notOk(list.body.includes('top-secret-value'))

  const nf = await app.inject({ method: 'GET', url: `/consumer-groups/${uniqueName('nope')}` })
  t.equal(nf.statusCode, 404)
  t.equal(nf.json().code, 'GW_NOT_FOUND')
})

t.test('partition-assigned declarations per instance: disjoint clientIds coexist, overlaps are warned about', async t => {
  const key = registryKey(t)
  const app = await gateway(t, key)
  const topic = await createTopic(app, 4)
  const gid = uniqueName('pa')
  const base = { isPartitionAssign: true, webhook: { url: HOOK }, consumer: FAST_CONSUMER }
  const a = await app.inject({ method: 'POST', url: '/consumer-groups', payload: { [gid]: { ...base, topics: [{ name: topic, partitions: [0, 1] }], clientIds: ['gw-a'] } } })
  t.equal(a.statusCode, 201)
  t.same(a.json().warnings, [])
  const b = await app.inject({ method: 'POST', url: '/consumer-groups', payload: { [gid]: { ...base, topics: [{ name: topic, partitions: [1, 2] }], clientIds: ['gw-b'] } } })
  t.equal(b.statusCode, 201, 'a declaration for other instances is added')
  t.equal(b.json().groups[0].result, 'created')
  t.equal(b.json().groups[0].version, 2)
  t.match(b.json().warnings, [{ groupId: gid, topic, partitions: [1], clientIds: ['gw-a'] }])
  const both = await app.inject({ method: 'POST', url: '/consumer-groups', payload: { [gid]: { ...base, topics: [{ name: topic, partitions: [3] }], clientIds: ['gw-b', 'gw-c'] } } })
  t.equal(both.statusCode, 409, 'overlapping instances conflict')
  const view = (await app.inject({ method: 'GET', url: `/consumer-groups/${gid}` })).json()
  t.same(view.declarations.map((d: { clientIds: string[] }) => d.clientIds), [['gw-a'], ['gw-b']])

  const rr = uniqueName('rr')
  await app.inject({ method: 'POST', url: '/consumer-groups', payload: { [rr]: { isPartitionAssign: false, topics: [{ name: topic }], webhook: { url: HOOK }, clientIds: ['gw-a'] } } })
  const rr2 = await app.inject({ method: 'POST', url: '/consumer-groups', payload: { [rr]: { isPartitionAssign: false, topics: [{ name: topic }], webhook: { url: HOOK }, clientIds: ['gw-b'] } } })
  t.equal(rr2.statusCode, 409, 'a round-robin group has one definition')
  t.match(rr2.json().message, /round-robin/)
})

t.test('Redis down → 503 GW_REDIS_UNAVAILABLE', async t => {
  const app = await build(t, { REDIS_URL: 'redis://127.0.0.1:1/0', REGISTRY_HEARTBEAT_MS: '500' })
  const topic = await createTopic(app, 1)
  for (const req of [
    { method: 'GET' as const, url: '/consumer-groups' },
    { method: 'GET' as const, url: '/consumer-groups/x' },
    { method: 'GET' as const, url: '/consumers' },
    { method: 'DELETE' as const, url: '/consumers?groupId=x' },
    { method: 'POST' as const, url: '/consumer-groups', payload: { g: { isPartitionAssign: false, topics: [{ name: topic }], webhook: { url: HOOK } } } }
  ]) {
    const res = await app.inject(req)
    t.equal(res.statusCode, 503, `${req.method} ${req.url}`)
    t.equal(res.json().code, 'GW_REDIS_UNAVAILABLE')
  }
})

t.test('webhook secrets and header values never reach the logs', async t => {
  const key = registryKey(t)
  const { logger, logs } = captureLogger('debug')
  const app = await build(t, { REGISTRY_KEY: key, REGISTRY_HEARTBEAT_MS: '500' }, logger)
  const topic = await createTopic(app, 1)
  const hook = await startReceiver(t)
  const secret = generateSecret()
  const gid = uniqueName('g')
  const res = await app.inject({ method: 'POST', url: '/consumer-groups', payload: { [gid]: { isPartitionAssign: false, fromBeginning: true, topics: [{ name: topic }], webhook: { url: hook.url, headers: { 'x-api-token': 'header-value-42' }, secrets: [secret] }, consumer: FAST_CONSUMER } } })
  t.equal(res.statusCode, 201)
  const producer = await app.kafka.connectedProducer()
  await producer.send({ topic, messages: [{ value: 'hello' }] })
  await waitFor('the delivery', () => hook.received.length > 0, 30_000)
  t.equal(hook.received[0]?.headers['x-api-token'], 'header-value-42', 'the header is sent')
  t.ok(hook.received[0]?.headers['webhook-signature'], 'the record is signed')
  await app.inject({ method: 'GET', url: '/consumer-groups' })
  t.notOk(logs.text().includes('header-value-42'), 'no header value in the logs')
  t.notOk(logs.text().includes(secret.slice(6)), 'no secret in the logs')
})
