import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { uniqueName, waitFor } from '../helpers/build.js'
import { startReceiver } from './helpers/receiver.js'
import { spawnGateway, type GatewayProcess as ChildGateway } from './helpers/child.js'
import { FAST_CONSUMER, createTopic, defineGroups, gateway, produce, registry, registryKey, waitForAssignment } from './helpers/kafka.js'
import { registryKeys, type RegistryKeys } from '../../src/registry/keys.js'

const HEARTBEAT_MS = 500
const childEnv = (key: string, clientId: string): Record<string, string> => ({
  KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
  REGISTRY_KEY: key,
  KAFKA_CLIENT_ID: clientId,
  REGISTRY_HEARTBEAT_MS: String(HEARTBEAT_MS)
})

/** Instance a in this process, instance b a child process (so it can be killed), both alive on `key`. */
async function inProcessAndChild (t: Test, key: string): Promise<{ keys: RegistryKeys, a: FastifyInstance, idB: string, b: ChildGateway }> {
  const keys = registryKeys(key)
  const a = await gateway(t, key, uniqueName('gw-a'))
  const idB = uniqueName('gw-b')
  const b = spawnGateway(t, childEnv(key, idB))
  await waitFor('the child instance to be alive', async () => (await a.redis.redis.exists(keys.alive(idB))) === 1, 30_000)
  return { keys, a, idB, b }
}

t.test('SIGKILL of an instance: its entries vanish within three heartbeats and the other takes over its partitions', async t => {
  const key = registryKey(t)
  const { keys, a, idB, b } = await inProcessAndChild(t, key)

  const topic = await createTopic(a, 4)
  const hook = await startReceiver(t)
  const groupId = uniqueName('rr')
  await defineGroups(a, { [groupId]: { isPartitionAssign: false, fromBeginning: true, topics: [{ name: topic }], webhook: { url: hook.url }, consumer: FAST_CONSUMER } })
  const split = await waitForAssignment(a, groupId, topic, [a.kafka.clientId, idB], 4)
  t.equal(split[idB]?.length, 2, 'the child runs half the partitions')
  const first = await produce(a, topic, 20, 4, 'before')
  await waitFor('20 deliveries', () => hook.received.length >= 20, 30_000)
  t.ok(b.output().includes('"event":"JOIN_GROUP"'), 'the child logged JOIN_GROUP')

  b.child.kill('SIGKILL')
  const killedAt = Date.now()
  await b.exited
  await waitFor('the child to vanish from GET /consumers', async () => (await registry(a))[idB] === undefined, 5000, 20)
  const gone = Date.now() - killedAt
  t.ok(gone <= 3 * HEARTBEAT_MS + 300, `gone from GET /consumers after ${gone} ms (TTL ${3 * HEARTBEAT_MS} ms)`)
  await waitFor('the sweep to delete its Redis field', async () => (await a.redis.redis.hexists(key, idB)) === 0 && (await a.redis.redis.sismember(keys.gateways, idB)) === 0, 5000, 20)
  const swept = Date.now() - killedAt
  t.ok(swept <= 4 * HEARTBEAT_MS + 300, `its registry field deleted after ${swept} ms (TTL + one sweep)`)

  // the session timeout (6 s) expires, the group rebalances, a gets every partition
  await waitForAssignment(a, groupId, topic, [a.kafka.clientId], 4, 30_000)
  const second = await produce(a, topic, 20, 4, 'after')
  await waitFor('every record delivered', () => [...first, ...second].every(v => hook.values().includes(v)), 30_000)
  t.pass('records of the dead instance\'s partitions are delivered by the survivor')
})

t.test('a server whose clientId is live elsewhere exits non-zero with a clear message', async t => {
  const key = registryKey(t)
  const id = uniqueName('gw')
  await gateway(t, key, id)
  const dup = spawnGateway(t, childEnv(key, id))
  const { code } = await dup.exited
  t.not(code, 0, `exit code ${String(code)}`)
  t.match(dup.output(), /KAFKA_CLIENT_ID ".*" is already used by a live gateway instance/)
})

t.test('SIGTERM removes the instance\'s registry entry, status and heartbeat at once', async t => {
  const key = registryKey(t)
  const { keys, a, idB, b } = await inProcessAndChild(t, key)
  const topic = await createTopic(a, 2)
  const groupId = uniqueName('pa')
  const hook = await startReceiver(t)
  await defineGroups(a, { [groupId]: { isPartitionAssign: true, topics: [{ name: topic, partitions: [1] }], clientIds: [idB], webhook: { url: hook.url }, consumer: FAST_CONSUMER } })
  await waitForAssignment(a, groupId, topic, [idB], 1)
  b.child.kill('SIGTERM')
  const { code } = await b.exited
  t.equal(code, 0, 'clean exit')
  const r = a.redis.redis
  t.same([await r.hexists(key, idB), await r.exists(keys.alive(idB)), await r.exists(keys.status(idB)), await r.sismember(keys.gateways, idB)], [0, 0, 0, 0])
  t.equal((await r.hexists(keys.groups, groupId)), 1, 'the definition stays')
})
