/**
 * SIGKILL mid-delivery: a real gateway process (`node --import tsx src/server.ts`) delivers part of 1200
 * records and is killed with SIGKILL; a new process with the same clientId takes over once the old
 * heartbeat has expired (and the group, once the old member's session has). Every record is delivered at
 * least once, and the duplicates are exactly the records the dead process had sent but not committed.
 *
 * The bound asserted: duplicates ≤ COMMIT_BOUND_RECORDS − 1 + 2 × C, where C = 3 is the number of partitions
 * delivered in parallel. Commits start in the background every few records and every second; a partition
 * that resolves a record while COMMIT_BOUND_RECORDS resolved records are uncommitted waits for the commit
 * under way, so at most COMMIT_BOUND_RECORDS − 1 resolved records wait for a commit, plus one per partition
 * whose commit is under way (C), plus the records in flight — sent to the webhook but not yet resolved, at
 * most one per partition (C). The kill comes after more deliveries than that, so a process that never
 * committed would fail it.
 * Besides the count, the test checks the exact set: per partition, the new process starts at the group's
 * committed offset, and every offset below it had been delivered before the kill.
 */
import t from 'tap'
import { uniqueName, waitFor } from '../helpers/build.js'
import { spawnGateway } from '../consumers/helpers/child.js'
import { COMMIT_BOUND_RECORDS } from '../../src/consumers/runner/commits.js'
import { registryKeys } from '../../src/registry/keys.js'
import { FAST_CONSUMER, createTopic, defineGroup, e2eGateway, postMessages, registryKey } from './helpers/gateway.js'
import { startHook, type Hit, type Reply } from './helpers/hook.js'

const N = 1200
const PARTITIONS = 3
const CONCURRENCY = 3
const ANSWER_AFTER_MS = 15
const KILL_AFTER = 700

t.test('SIGKILL mid-delivery: every record delivered at least once; duplicates only the uncommitted window', async t => {
  const key = registryKey(t)
  const keys = registryKeys(key)
  const app = await e2eGateway(t, { registryKey: key })
  const childId = uniqueName('gw-child')
  const childEnv = {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    REGISTRY_KEY: key,
    KAFKA_CLIENT_ID: childId,
    REGISTRY_HEARTBEAT_MS: '500'
  }
  const topic = await createTopic(app, PARTITIONS, 'kill')
  const groupId = uniqueName('kill')
  const hook = await startHook(t, async (): Promise<Reply> => {
    await new Promise(resolve => setTimeout(resolve, ANSWER_AFTER_MS))
    return { status: 204 }
  })

  await postMessages(app, topic, Array.from({ length: N }, (_v, seq) => ({ value: { seq }, partitions: [seq % PARTITIONS] })))
  // only the child process runs the group
  await defineGroup(app, groupId, {
    isPartitionAssign: false,
    fromBeginning: true,
    topics: [{ name: topic }],
    clientIds: [childId],
    concurrency: CONCURRENCY,
    webhook: { url: hook.url },
    consumer: FAST_CONSUMER
  })

  const first = spawnGateway(t, childEnv)
  await waitFor(`${KILL_AFTER} deliveries by the first process`, () => hook.hits.length >= KILL_AFTER, 60_000)
  first.child.kill('SIGKILL')
  const { signal } = await first.exited
  t.equal(signal, 'SIGKILL')

  // what the group had committed when the process died (nobody else commits for it until the restart)
  const admin = await app.kafka.connectedAdmin()
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] })
  const committed = new Map((offsets?.partitions ?? []).map(p => [p.partition, Number(p.offset)]))

  await waitFor('the dead process\'s heartbeat to expire', async () => (await app.redis.redis.exists(keys.alive(childId))) === 0, 10_000)
  const preKill: Hit[] = [...hook.hits]
  t.ok(new Set(preKill.map(h => (h.body.value as { seq: number }).seq)).size < N, `killed mid-delivery (${preKill.length} of ${N} sent)`)
  const second = spawnGateway(t, childEnv)
  await waitFor('every record delivered after the restart', () => new Set(hook.ok().map(h => (h.body.value as { seq: number }).seq)).size === N, 60_000)
  t.ok(second.output().includes('"event":"JOIN_GROUP"'), 'the new process joined the group')

  const postKill = hook.hits.slice(preKill.length)
  let duplicates = 0
  for (let p = 0; p < PARTITIONS; p++) {
    const before = preKill.filter(h => h.body.partition === p).map(h => Number(h.body.offset))
    const after = postKill.filter(h => h.body.partition === p).map(h => Number(h.body.offset))
    const c = committed.get(p) ?? -1
    t.same(before, [...new Set(before)].sort((x, y) => x - y), `partition ${p}: no duplicate before the kill, in order`)
    const lastSent = before.length === 0 ? -1 : Math.max(...before)
    t.ok(c >= 0 && c <= lastSent + 1, `partition ${p}: committed ${c} ≤ last offset sent + 1 (${lastSent + 1}): nothing committed before delivery`)
    t.ok(before.slice(0, c).every((o, i) => o === i), `partition ${p}: every offset below the commit was delivered before the kill`)
    t.equal(after[0], c, `partition ${p}: the new process resumes at the committed offset ${c}`)
    t.same(after, [...new Set(after)].sort((x, y) => x - y), `partition ${p}: no duplicate after the restart, in order`)
    const dup = after.filter(o => before.includes(o))
    t.same(dup, Array.from({ length: Math.max(0, lastSent + 1 - c) }, (_v, i) => c + i), `partition ${p}: the duplicates are exactly offsets ${c}..${lastSent}, sent but not committed`)
    t.equal(new Set([...before, ...after]).size, N / PARTITIONS, `partition ${p}: every offset delivered`)
    duplicates += dup.length
  }
  const bound = COMMIT_BOUND_RECORDS - 1 + 2 * CONCURRENCY
  t.ok(duplicates <= bound, `${duplicates} duplicate(s) ≤ ${bound} (COMMIT_BOUND_RECORDS − 1 + 2 × ${CONCURRENCY})`)
  t.comment(`killed after ${preKill.length} requests; committed ${JSON.stringify([...committed])}; ${duplicates} duplicate(s)`)
})
