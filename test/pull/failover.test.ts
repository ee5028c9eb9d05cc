/**
 * Issue 13, item 2: two gateway processes behind a round-robin proxy serve one pull consumer instance —
 * every other request reaches the instance that does not hold it and is forwarded. The holder is killed
 * mid-stream (SIGKILL, right after a poll it never committed): the survivor takes the instance over and
 * resumes from the committed offsets. Every record arrives; the only duplicates are records polled but not
 * committed; a record is never handed out again once committed.
 */
import t, { type Test } from 'tap'
import { startGateway, type GatewayProcess } from '../../scripts/lib/launch/gateway.js'
import { uniqueName, waitFor } from '../helpers/build.js'
import { startRoundRobinProxy } from '../helpers/round-robin-proxy.js'
import { registryKey } from '../consumers/helpers/kafka.js'
import { createSubscribed, pollOnce, urlCall, type Call, type PolledRecord } from './helpers.js'

const PARTITIONS = 3
const RECORDS = 600

/** Retries what a load balancer's client retries: 502/503 while an instance is dead or the consumer moves. */
async function retrying<T> (what: string, fn: () => Promise<T>): Promise<T> {
  let last: unknown
  for (let i = 0; i < 60; i++) {
    try {
      return await fn()
    } catch (err) {
      last = err
      if (!/answered 50[23]/.test((err as Error).message)) throw err
      await new Promise(resolve => setTimeout(resolve, 250))
    }
  }
  throw new Error(`${what}: still failing: ${(last as Error).message}`)
}

async function gatewayPair (t: Test, key: string): Promise<GatewayProcess[]> {
  const env = { REGISTRY_KEY: key, REGISTRY_HEARTBEAT_MS: '500', LOG_LEVEL: 'warn', KAFKA_REQUEST_TIMEOUT_MS: '10000', MAX_EVENT_LOOP_DELAY_MS: '0' }
  const gateways = await Promise.all(['a', 'b'].map(n => startGateway({ env: { ...env, KAFKA_CLIENT_ID: uniqueName(`gw-${n}`) } })))
  for (const g of gateways) t.teardown(async () => { await g.kill() })
  return gateways
}

async function commitAll (call: Call, url: string): Promise<Array<{ partition: number, offset: string }>> {
  const res = await call('POST', `${url}/offsets`)
  if (res.statusCode !== 200) throw new Error(`commit answered ${res.statusCode}: ${res.body}`)
  return (res.json() as { offsets: Array<{ partition: number, offset: string }> }).offsets
}

t.test('a pull consumer survives its gateway instance: nothing lost, duplicates only of uncommitted polls', async t => {
  const key = registryKey(t)
  const gateways = await gatewayPair(t, key)
  const proxy = await startRoundRobinProxy(t, gateways.map(g => g.url))
  const call = urlCall(() => proxy.url)
  const direct = urlCall(() => gateways[0]?.url ?? '')

  const topic = uniqueName('pull-failover')
  t.equal((await direct('POST', '/topics', { name: topic, partitions: PARTITIONS })).statusCode, 201)
  for (let start = 0; start < RECORDS; start += 200) {
    const res = await direct('POST', '/messages', { topic, messages: Array.from({ length: 200 }, (_v, i) => ({ value: `r-${start + i}`, partitions: [(start + i) % PARTITIONS] })) })
    t.equal(res.statusCode, 200, 'produced')
  }
  const groupId = uniqueName('pull-failover')
  const url = await createSubscribed(call, groupId, [topic], { maxPollRecords: 25 })

  const seen = new Map<string, number>()
  const committed = new Map<number, number>()
  let againAfterCommit = 0
  const take = (batch: PolledRecord[]): void => {
    for (const r of batch) {
      const id = `${r.partition}/${r.offset}`
      if (Number(r.offset) < (committed.get(r.partition) ?? 0)) againAfterCommit++
      seen.set(id, (seen.get(id) ?? 0) + 1)
    }
  }
  const record = (offsets: Array<{ partition: number, offset: string }>): void => {
    for (const o of offsets) committed.set(o.partition, Math.max(committed.get(o.partition) ?? 0, Number(o.offset)))
  }

  // a third of the stream through both instances, committed after every poll
  await waitFor('a third of the records', async () => {
    take(await retrying('poll', () => pollOnce(call, url)))
    record(await retrying('commit', () => commitAll(call, url)))
    return seen.size >= RECORDS / 3
  }, 120_000, 0)
  t.ok(proxy.served.size === 2, 'the proxy spread requests over both instances')

  const group = (await call('GET', `/consumer-groups/${groupId}`)).json() as { pullInstances: Array<{ owner: string }> }
  const ownerId = group.pullInstances[0]?.owner
  const owner = gateways.find(g => g.clientId === ownerId)
  t.ok(owner !== undefined, `the instance is held by one of the two (${String(ownerId)})`)

  // one more poll, never committed: what it got may come again, nothing else may
  let uncommitted: PolledRecord[] = []
  await waitFor('a poll with records', async () => { uncommitted = await retrying('poll', () => pollOnce(call, url)); take(uncommitted); return uncommitted.length > 0 }, 30_000, 0)
  await owner?.kill('SIGKILL')

  await waitFor('every record', async () => {
    take(await retrying('poll', () => pollOnce(call, url)))
    record(await retrying('commit', () => commitAll(call, url)))
    return seen.size >= RECORDS
  }, 120_000, 0)

  t.equal(seen.size, RECORDS, 'every record arrived (nothing lost)')
  t.equal(againAfterCommit, 0, 'no record came again after it was committed')
  const duplicates = [...seen].filter(([, n]) => n > 1).map(([id]) => id)
  const uncommittedIds = new Set(uncommitted.map(r => `${r.partition}/${r.offset}`))
  t.ok(duplicates.every(id => uncommittedIds.has(id)), `duplicates (${duplicates.length}) are all from the uncommitted poll (${uncommitted.length})`)
  t.ok(duplicates.length > 0, 'the uncommitted poll was delivered again by the new owner')

  const after = (await call('GET', `/consumer-groups/${groupId}`)).json() as { pullInstances: Array<{ owner: string }> }
  t.not(after.pullInstances[0]?.owner, ownerId, 'the survivor holds the instance now')
})
