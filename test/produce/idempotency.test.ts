import t from 'tap'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { bodyHash, createIdempotencyStore } from '../../src/produce/idempotency.js'
import { canonicalJson } from '../../src/util/canonical-json.js'
import { registryKeys } from '../../src/registry/keys.js'
import { uniqueName, waitFor } from '../helpers/build.js'

const logger = pino({ level: 'silent' })

t.test('canonical JSON: key order does not matter, array order and values do', async t => {
  t.equal(canonicalJson({ b: 1, a: { d: [1, 2], c: null } }), '{"a":{"c":null,"d":[1,2]},"b":1}')
  t.equal(bodyHash({ topic: 't', value: { x: 1, y: 2 } }), bodyHash({ value: { y: 2, x: 1 }, topic: 't' }))
  t.not(bodyHash({ topic: 't', messages: [{ value: 1 }, { value: 2 }] }), bodyHash({ topic: 't', messages: [{ value: 2 }, { value: 1 }] }))
  t.not(bodyHash({ topic: 't', value: '1' }), bodyHash({ topic: 't', value: 1 }))
})

t.test('the store on real Redis: SET NX marker, 409 in progress, 422 on another body, replay, release, TTLs', async t => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0')
  t.teardown(() => { redis.disconnect() })
  const keys = registryKeys(uniqueName('registry'))
  const store = createIdempotencyStore({ redis, keys, ttlSeconds: 600, inProgressMs: 1000, logger })
  const key = uniqueName('k')

  const first = await store.begin(key, 'hash-a')
  t.equal(first.kind, 'new')
  const markerTtl = await redis.pttl(keys.idempotency(key))
  t.ok(markerTtl > 0 && markerTtl <= 1000, `in-progress marker expires by itself (${markerTtl} ms)`)
  await t.rejects(store.begin(key, 'hash-a'), { statusCode: 409, code: 'GW_IDEMPOTENCY_IN_PROGRESS', retryAfterSeconds: 1 })
  await t.rejects(store.begin(key, 'hash-b'), { statusCode: 422, code: 'GW_IDEMPOTENCY_KEY_REUSED' })

  if (first.kind !== 'new') throw new Error('unreachable')
  const body = { results: [{ index: 0, topic: 't', partition: 1, offset: '42' }] }
  await store.complete(key, first.token, 'hash-a', 200, body)
  t.same(await store.begin(key, 'hash-a'), { kind: 'replay', status: 200, body })
  const ttl = await redis.ttl(keys.idempotency(key))
  t.ok(ttl > 590 && ttl <= 600, `the answer is kept for the TTL (${ttl} s)`)
  await t.rejects(store.begin(key, 'hash-b'), { statusCode: 422, code: 'GW_IDEMPOTENCY_KEY_REUSED' })

  // a marker whose owner died expires, and the key can be taken again
  const orphan = uniqueName('orphan')
  t.equal((await store.begin(orphan, 'h')).kind, 'new')
  const again = await waitFor('the orphaned marker to expire', async () => {
    const r = await store.begin(orphan, 'h').catch(() => undefined)
    return r?.kind === 'new' ? r : undefined
  }, 5000, 100)
  t.equal(again.kind, 'new')

  // release removes only its own marker
  const released = uniqueName('released')
  const mine = await store.begin(released, 'h')
  if (mine.kind !== 'new') throw new Error('unreachable')
  await store.release(released, 'someone-else', 'h')
  t.equal(await redis.exists(keys.idempotency(released)), 1, 'another token does not release it')
  await store.release(released, mine.token, 'h')
  t.equal(await redis.exists(keys.idempotency(released)), 0)

  // completing after the marker expired and someone else took the key does not overwrite their marker
  const late = uniqueName('late')
  const slow = await store.begin(late, 'h')
  if (slow.kind !== 'new') throw new Error('unreachable')
  await redis.del(keys.idempotency(late))
  const fast = await store.begin(late, 'h')
  await store.complete(late, slow.token, 'h', 200, body)
  t.match(JSON.parse(await redis.get(keys.idempotency(late)) ?? '{}'), { state: 'in-progress', token: fast.kind === 'new' ? fast.token : '' })
})

t.test('a marker whose instance is gone (heartbeat key lost or holding another token) is taken over at once', async t => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0')
  const keys = registryKeys(uniqueName('registry'))
  const owner = { alive: keys.alive('gw-a'), token: 'token-a' }
  t.teardown(async () => {
    await redis.del(owner.alive)
    redis.disconnect()
  })
  // a long marker: only the owner check can free it within the test
  const a = createIdempotencyStore({ redis, keys, ttlSeconds: 600, inProgressMs: 600_000, owner, logger })
  const b = createIdempotencyStore({ redis, keys, ttlSeconds: 600, inProgressMs: 600_000, owner: { alive: keys.alive('gw-b'), token: 'token-b' }, logger })
  const key = uniqueName('k')
  await redis.set(owner.alive, owner.token, 'PX', 60_000)
  const first = await a.begin(key, 'h')
  if (first.kind !== 'new') throw new Error('unreachable')
  // the owner lives: 409
  await t.rejects(b.begin(key, 'h'), { statusCode: 409, code: 'GW_IDEMPOTENCY_IN_PROGRESS' })

  await redis.set(owner.alive, 'token-of-a-restarted-a', 'PX', 60_000)
  const taken = await b.begin(key, 'h')
  t.equal(taken.kind, 'new', 'the owner restarted (another token): taken over')
  // b lives: 409
  await redis.set(keys.alive('gw-b'), 'token-b', 'PX', 60_000)
  await t.rejects(a.begin(key, 'h'), { statusCode: 409, code: 'GW_IDEMPOTENCY_IN_PROGRESS' })
  await a.complete(key, first.token, 'h', 200, { results: [] })
  t.match(JSON.parse(await redis.get(keys.idempotency(key)) ?? '{}'), { state: 'in-progress', owner: { alive: keys.alive('gw-b') } }, 'the old owner completing late does not overwrite the new marker')
  await redis.del(keys.alive('gw-b'))
  t.equal((await a.begin(key, 'h')).kind, 'new', 'b died (heartbeat key gone): taken over')
})

t.test('Redis unreachable → 503 GW_REDIS_UNAVAILABLE', async t => {
  const redis = new Redis('redis://127.0.0.1:1/0', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
  redis.on('error', () => undefined)
  t.teardown(() => { redis.disconnect() })
  const store = createIdempotencyStore({ redis, keys: registryKeys('x'), ttlSeconds: 60, logger })
  await t.rejects(store.begin('k', 'h'), { statusCode: 503, code: 'GW_REDIS_UNAVAILABLE' })
})
