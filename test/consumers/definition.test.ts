import t from 'tap'
import { Redis } from 'ioredis'
import {
  appliesTo, definitionHash, normalizeDefinition, preValidationError, scopesOverlap, type GroupDefinitionInput
} from '../../src/consumers/definition.js'
import { definitionView } from '../../src/consumers/definition-view.js'
import { createDefinitionStore, declarationFor } from '../../src/consumers/store.js'
import { registryKeys } from '../../src/registry/keys.js'
import { registryKey } from './helpers/kafka.js'

const input = (over: Partial<GroupDefinitionInput> = {}): GroupDefinitionInput => ({
  isPartitionAssign: true,
  topics: [{ name: 'b', partitions: [3, 1, 1] }, { name: 'a', partitions: [0] }],
  webhook: { url: 'https://hooks.example.com/x', headers: { Authorization: 'Bearer s3cret' }, secrets: ['whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0'], nonRetryableStatuses: [410, 400] },
  ...over
})

t.test('normalisation applies defaults and sorts, so equal definitions hash equally', async t => {
  const def = normalizeDefinition(input())
  t.same(def.topics, [{ name: 'a', partitions: [0] }, { name: 'b', partitions: [1, 3] }])
  t.equal(def.fromBeginning, false)
  t.equal(def.concurrency, 6)
  t.same(def.consumer, { sessionTimeoutMs: 30_000, heartbeatIntervalMs: 3000, rebalanceTimeoutMs: 60_000, maxWaitTimeMs: 500 })
  t.same(def.webhook.nonRetryableStatuses, [400, 410])
  const reordered = normalizeDefinition({ ...input(), topics: [{ name: 'a', partitions: [0] }, { name: 'b', partitions: [1, 3] }], fromBeginning: false, concurrency: 6 })
  t.equal(definitionHash(reordered), definitionHash(def))
  t.not(definitionHash(normalizeDefinition(input({ webhook: { url: 'https://hooks.example.com/x', secrets: ['whsec_b3RoZXJvdGhlcm90aGVyb3RoZXJvdGhlcg=='] } }))), definitionHash(def), 'a new secret is a change')
  t.equal(definitionHash(reordered, 'ab12'), definitionHash(def, 'ab12'), 'equal under one salt')
  t.not(definitionHash(def, 'ab12'), definitionHash(def, 'cd34'), 'the salt changes the hash, so a shown hash cannot be recomputed from the view')
  // declarations stored before salts existed carry the hash of commit a59a284, which gave this definition
  // 0bad76d09bdce4f8: unsalted, the hash must stay that, or their identical re-POSTs would turn into 409s
  t.equal(definitionHash(def), '0bad76d09bdce4f8', 'unsalted: the earlier hash, so records stored before salts still match')
})

t.test('webhook batchSize: 1 is the default and is not stored; above 1 it is kept and shown', async t => {
  const plain = normalizeDefinition(input())
  const one = normalizeDefinition(input({ webhook: { ...input().webhook, batchSize: 1 } }))
  t.equal(definitionHash(one), definitionHash(plain), 'batchSize 1 hashes like no batchSize')
  t.notOk('batchSize' in one.webhook)
  const batched = normalizeDefinition(input({ webhook: { ...input().webhook, batchSize: 100 } }))
  t.equal(batched.webhook.batchSize, 100)
  t.equal(definitionView(batched).webhook.batchSize, 100)
  t.not(definitionHash(batched), definitionHash(plain), 'a batch size is a change')
  const waiting = normalizeDefinition(input({ webhook: { ...input().webhook, batchSize: 100, maxBatchWaitMs: 250 } }))
  t.equal(definitionView(waiting).webhook.maxBatchWaitMs, 250, 'maxBatchWaitMs is kept and shown')
  t.notOk('maxBatchWaitMs' in normalizeDefinition(input({ webhook: { ...input().webhook, batchSize: 100, maxBatchWaitMs: 0 } })).webhook, '0 (the default) is not stored')
})

t.test('the view never contains secrets or header values', async t => {
  const view = definitionView(normalizeDefinition(input()))
  t.same(view.webhook, { url: 'https://hooks.example.com/x', headers: ['Authorization'], secrets: 1, nonRetryableStatuses: [400, 410] })
  t.notOk(JSON.stringify(view).includes('s3cret'))
  t.notOk(JSON.stringify(view).includes('whsec_'))
})

t.test('scopes', async t => {
  t.ok(appliesTo({}, 'x'))
  t.ok(appliesTo({ clientIds: ['x'] }, 'x'))
  t.notOk(appliesTo({ clientIds: ['y'] }, 'x'))
  t.ok(scopesOverlap({}, { clientIds: ['a'] }))
  t.ok(scopesOverlap({ clientIds: ['a', 'b'] }, { clientIds: ['b'] }))
  t.notOk(scopesOverlap({ clientIds: ['a'] }, { clientIds: ['b'] }))
})

t.test('pre-validation: the isAssignPartition spelling and bad group ids', async t => {
  t.equal(preValidationError({ ok: { isPartitionAssign: true } }), undefined)
  const err = preValidationError({ g: { isAssignPartition: true }, 'x y': {} })
  t.equal(err?.statusCode, 400)
  t.same(err?.details?.map(d => d.field), ['body/g/isAssignPartition', 'body/x y'])
  t.match(err?.details?.[0]?.message, /did you mean "isPartitionAssign"/)
})

t.test('the store: created, unchanged, conflict, replace, per-instance declarations, concurrent creates', async t => {
  const key = registryKey(t)
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0')
  t.teardown(() => redis.disconnect())
  const store = createDefinitionStore({ redis, keys: registryKeys(key) })
  const a = normalizeDefinition(input({ clientIds: ['gw-a'] }))
  const b = normalizeDefinition(input({ clientIds: ['gw-b'], topics: [{ name: 'a', partitions: [1] }] }))
  t.equal((await store.put([{ groupId: 'g', definition: a }], { replace: false }))[0]?.result, 'created')
  t.equal((await store.put([{ groupId: 'g', definition: a }], { replace: false }))[0]?.result, 'unchanged')
  t.equal((await store.put([{ groupId: 'g', definition: b }], { replace: false }))[0]?.result, 'created', 'another instance\'s declaration is added')
  const record = await store.get('g')
  t.equal(record?.version, 2)
  t.equal(declarationFor(record!, 'gw-b')?.definition.topics[0]?.partitions?.[0], 1)
  t.equal(declarationFor(record!, 'gw-c'), undefined)

  const a2 = normalizeDefinition(input({ clientIds: ['gw-a'], fromBeginning: true }))
  await t.rejects(store.put([{ groupId: 'g', definition: a2 }], { replace: false }), { statusCode: 409, code: 'GW_CONFLICT' })
  const replaced = await store.put([{ groupId: 'g', definition: a2 }], { replace: true })
  t.equal(replaced[0]?.result, 'replaced')
  t.equal(replaced[0]?.declaration.version, 2)
  t.equal(replaced[0]?.record.declarations.length, 2, 'gw-b\'s declaration stays')

  // a request with several groups is all-or-nothing
  await t.rejects(store.put([{ groupId: 'fresh', definition: a }, { groupId: 'g', definition: normalizeDefinition(input({ clientIds: ['gw-a'], concurrency: 2 })) }], { replace: false }), { statusCode: 409, code: 'GW_CONFLICT' })
  t.equal(await store.get('fresh'), undefined, 'nothing of a refused request is stored')

  // two different creates racing: one wins, the other conflicts
  const racing = await Promise.allSettled([
    store.put([{ groupId: 'race', definition: normalizeDefinition(input({ concurrency: 1 })) }], { replace: false }),
    store.put([{ groupId: 'race', definition: normalizeDefinition(input({ concurrency: 2 })) }], { replace: false })
  ])
  t.same(racing.map(r => r.status).sort(), ['fulfilled', 'rejected'])

  t.same(await store.delete(['g', 'nope']), ['g'])
  t.same((await store.deleteAll()).sort(), ['race'])
})
