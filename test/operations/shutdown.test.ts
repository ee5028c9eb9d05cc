/**
 * Graceful shutdown of a real server process (`node --import tsx src/server.ts`) against the real broker
 * and Redis: SIGTERM during steady produce and delivery, repeated signals, a webhook that never answers.
 */
import t from 'tap'
import { uniqueName, waitFor } from '../helpers/build.js'
import { registryKeys } from '../../src/registry/keys.js'
import { ConfigError, loadConfig } from '../../src/config/env.js'
import { FAST_CONSUMER, SHUTDOWN_TIMEOUT_MS, childEnv, createTopic, defineGroup, isConnectionError, kafkaFor, postValues, readBack, readyStatus, redisFor, startGateway, startHook, waitForJoin } from './helpers/shutdown-kit.js'


t.test('SHUTDOWN_DRAIN_MS: default 0, validated, and shorter than SHUTDOWN_TIMEOUT_MS', async t => {
  t.equal(loadConfig({}).shutdownDrainMs, 0)
  t.equal(loadConfig({ SHUTDOWN_DRAIN_MS: '5000', SHUTDOWN_TIMEOUT_MS: '25000' }).shutdownDrainMs, 5000)
  t.throws(() => loadConfig({ SHUTDOWN_DRAIN_MS: 'soon' }), ConfigError)
  t.throws(() => loadConfig({ SHUTDOWN_DRAIN_MS: '-1' }), ConfigError)
  t.throws(() => loadConfig({ SHUTDOWN_DRAIN_MS: '25000', SHUTDOWN_TIMEOUT_MS: '25000' }), /SHUTDOWN_DRAIN_MS: must be less than SHUTDOWN_TIMEOUT_MS/)
})

t.test('SHUTDOWN_DELIVERY_GRACE_MS: 5 s by default, less when the shutdown bound is short, validated against it', async t => {
  t.equal(loadConfig({}).shutdownDeliveryGraceMs, 5000)
  t.equal(loadConfig({ SHUTDOWN_TIMEOUT_MS: '4000' }).shutdownDeliveryGraceMs, 2000, 'half of the bound')
  t.equal(loadConfig({ SHUTDOWN_TIMEOUT_MS: '10000', SHUTDOWN_DRAIN_MS: '8000' }).shutdownDeliveryGraceMs, 1000, 'half of what the drain leaves')
  t.equal(loadConfig({ SHUTDOWN_DELIVERY_GRACE_MS: '0' }).shutdownDeliveryGraceMs, 0, '0 aborts deliveries at once')
  t.throws(() => loadConfig({ SHUTDOWN_DELIVERY_GRACE_MS: '20000', SHUTDOWN_DRAIN_MS: '5000' }), /SHUTDOWN_DELIVERY_GRACE_MS: with SHUTDOWN_DRAIN_MS \(5000\) it must stay below SHUTDOWN_TIMEOUT_MS \(25000\)/)
  t.throws(() => loadConfig({ SHUTDOWN_DELIVERY_GRACE_MS: 'later' }), ConfigError)
})

t.test('SIGTERM during steady produce and delivery: readiness 503 first, nothing accepted is lost, no registry entry left, clean exit', async t => {
  const key = uniqueName('registry')
  const keys = registryKeys(key)
  const clientId = uniqueName('gw-sd')
  const redis = await redisFor(t, key)
  const { kafka, admin } = await kafkaFor(t)
  const topic = await createTopic(admin, 4)
  const hook = await startHook(t, { delayMs: 5 })
  const groupId = uniqueName('sd-group')
  // a drain long enough to see readiness fail before the listener closes
  const env = childEnv(key, clientId, { SHUTDOWN_DRAIN_MS: '1500' })

  const gw = await startGateway(t, env)
  await defineGroup(gw, groupId, topic, { url: hook.url })
  await waitForJoin(redis, key, clientId, groupId)

  // steady produce: concurrent POST /messages loops with unique ids, remembering which got a 2xx
  const accepted = new Set<string>()
  const refused = new Map<number, number>()
  let connectionErrors = 0
  let sigtermAt = 0
  let stop = false
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; !stop; i++) {
      const id = `m-${w}-${i}`
      try {
        const res = await postValues(gw, topic, [id])
        if (res.status >= 200 && res.status < 300) accepted.add(id)
        else refused.set(res.status, (refused.get(res.status) ?? 0) + 1)
      } catch (err) {
        if (!isConnectionError(err)) throw err
        connectionErrors++
        if (sigtermAt === 0) throw new Error(`connection failed before SIGTERM: ${String(err)}`)
        return // the listener closed: this worker is done
      }
    }
  }
  let workerError: unknown
  const workers = Array.from({ length: 6 }, (_v, w) => worker(w).catch((err: unknown) => { workerError ??= err; stop = true }))

  // steady delivery under way, with produce still going
  await waitFor('deliveries under way', () => hook.values.length >= 30 && accepted.size >= 60, 30_000)
  const beforeSignal = { accepted: accepted.size, delivered: hook.values.length }

  // readiness, polled in a tight loop from the moment SIGTERM is sent until the port closes
  const readiness: Array<{ status: number, body: string }> = []
  let readinessClosedAt = 0
  const pollReadiness = async (): Promise<void> => {
    for (;;) {
      try {
        const res = await fetch(`${gw.base}/health/ready`)
        readiness.push({ status: res.status, body: await res.text() })
      } catch (err) {
        if (!isConnectionError(err)) throw err
        readinessClosedAt = Date.now()
        return
      }
    }
  }

  sigtermAt = Date.now()
  gw.child.kill('SIGTERM')
  const polled = pollReadiness()
  const { code, signal } = await gw.exited
  const exitMs = Date.now() - sigtermAt
  stop = true
  await Promise.all([...workers, polled])
  t.equal(workerError, undefined, 'no produce worker failed unexpectedly')

  t.equal(code, 0, `exit code 0 (signal ${String(signal)})`)
  t.ok(exitMs < SHUTDOWN_TIMEOUT_MS, `exited ${exitMs} ms after SIGTERM (timeout ${SHUTDOWN_TIMEOUT_MS} ms)`)
  t.ok(accepted.size > beforeSignal.accepted, `produce went on during the drain (${beforeSignal.accepted} accepted at SIGTERM, ${accepted.size} in all)`)
  t.comment(`accepted ${accepted.size}; refused ${JSON.stringify(Object.fromEntries(refused))}; connection errors ${connectionErrors}; delivered ${hook.values.length} (${beforeSignal.delivered} at SIGTERM)`)

  const shuttingDown = readiness.filter(r => r.status === 503 && readyStatus(r.body) === 'shutting-down')
  t.ok(shuttingDown.length > 0, `readiness answered 503 shutting-down ${shuttingDown.length} times before the port closed (${readiness.length} polls)`)
  const first503 = readiness.findIndex(r => r.status === 503)
  t.ok(first503 >= 0 && readiness.slice(first503).every(r => r.status === 503), 'once 503, readiness never answered 200 again')
  t.ok(readinessClosedAt > 0, 'the port closed')

  // the shutdown sequence, from the process's own log
  const msgs = gw.lines().map(l => String(l.msg))
  const order = ['shutting down', 'shutdown begun: readiness answers 503 shutting-down', 'draining: still serving while load balancers notice readiness failing']
    .map(m => msgs.indexOf(m))
  const produceClosed = msgs.findIndex(m => m.startsWith('produce closed'))
  const closed = msgs.findIndex(m => m.startsWith('closed: '))
  t.ok(order.every(i => i >= 0), 'signal, readiness and drain logged')
  t.ok(order.every((v, i) => i === 0 || v > (order[i - 1] as number)) && produceClosed > (order[2] as number) && closed > produceClosed,
    `logged in order: signal → readiness 503 → drain → produce flushed → closed (lines ${[...order, produceClosed, closed].join(', ')} of ${msgs.length})`)
  t.notOk(gw.output().includes('killed by timeout'), 'no timeout')

  // every POST that got a 2xx is in Kafka
  const inKafka = await readBack(kafka, topic, accepted)
  const missing = [...accepted].filter(id => !inKafka.has(id))
  t.same(missing, [], `all ${accepted.size} accepted records are in the topic (${inKafka.size} records read)`)

  // the registry has forgotten this instance; the definition stays
  t.same(
    [await redis.hexists(key, clientId), await redis.exists(keys.alive(clientId)), await redis.exists(keys.status(clientId)), await redis.sismember(keys.gateways, clientId)],
    [0, 0, 0, 0], 'registry field, heartbeat, status and gateways membership are gone')
  t.equal(await redis.hexists(keys.groups, groupId), 1, 'the group definition stays')

  // the consumer left its group
  const { groups } = await admin.describeGroups([groupId])
  const group = groups[0]
  t.equal(group?.members.length, 0, 'the consumer group has no members')
  t.equal(group?.state, 'Empty', 'the consumer group is Empty')

  // a restart with the same definition delivers everything: nothing accepted was lost between commit and abort
  const again = await startGateway(t, env)
  await waitFor('every accepted record delivered after the restart', () => {
    const got = new Set(hook.values)
    return [...accepted].every(id => got.has(id))
  }, 45_000, 100)
  const duplicates = hook.values.length - new Set(hook.values).size
  t.pass(`every accepted record reached the webhook (${hook.values.length} deliveries, ${duplicates} re-deliveries of records not committed at shutdown)`)
  again.child.kill('SIGTERM')
  t.equal((await again.exited).code, 0, 'the restarted gateway exits 0 too')
})

t.test('without a drain (the default): requests in flight at SIGTERM are answered, their sockets do not hold the close, nothing accepted is lost', async t => {
  const key = uniqueName('registry')
  const clientId = uniqueName('gw-sd0')
  const redis = await redisFor(t, key)
  const { kafka, admin } = await kafkaFor(t)
  const topic = await createTopic(admin, 2)
  // a long linger keeps every request in flight for a while: SIGTERM always finds some waiting for Kafka
  const gw = await startGateway(t, childEnv(key, clientId, { PRODUCE_LINGER_MS: '200' }))

  const accepted = new Set<string>()
  const outcomes = new Map<string, number>()
  let sigtermAt = 0
  let stop = false
  let workerError: unknown
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; !stop; i++) {
      const id = `n-${w}-${i}`
      try {
        const res = await postValues(gw, topic, [id])
        if (res.status >= 200 && res.status < 300) accepted.add(id)
        const k = String(res.status)
        outcomes.set(k, (outcomes.get(k) ?? 0) + 1)
      } catch (err) {
        if (!isConnectionError(err) || sigtermAt === 0) throw err
        outcomes.set('connection error', (outcomes.get('connection error') ?? 0) + 1)
        return
      }
    }
  }
  const workers = Array.from({ length: 6 }, (_v, w) => worker(w).catch((err: unknown) => { workerError ??= err; stop = true }))
  await waitFor('produce under way', () => accepted.size >= 30, 30_000)
  const atSignal = accepted.size

  sigtermAt = Date.now()
  gw.child.kill('SIGTERM')
  const { code } = await gw.exited
  const ms = Date.now() - sigtermAt
  stop = true
  await Promise.all(workers)
  t.equal(workerError, undefined, 'no produce worker failed unexpectedly')
  t.equal(code, 0, 'clean exit')
  // a keep-alive socket left open by a request in flight would hold server.close() for keepAliveTimeout (72 s)
  t.ok(ms < 10_000, `exited ${ms} ms after SIGTERM`)
  t.ok(accepted.size > atSignal, `requests in flight at SIGTERM were answered 2xx (${atSignal} accepted at SIGTERM, ${accepted.size} in all)`)
  t.comment(`outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`)
  const inKafka = await readBack(kafka, topic, accepted)
  t.same([...accepted].filter(id => !inKafka.has(id)), [], `all ${accepted.size} accepted records are in the topic`)
  t.equal(await redis.exists(registryKeys(key).alive(clientId)), 0, 'heartbeat gone')
})

t.test('a second SIGTERM during the shutdown is ignored (supervisors repeat it); a second SIGINT exits at once, non-zero', async t => {
  const key = uniqueName('registry')
  const clientId = uniqueName('gw-sd2')
  await redisFor(t, key)
  // a long drain holds the first shutdown; the timeout is longer still
  const gw = await startGateway(t, childEnv(key, clientId, { SHUTDOWN_DRAIN_MS: '30000', SHUTDOWN_TIMEOUT_MS: '60000' }))
  await waitFor('readiness 200', async () => (await fetch(`${gw.base}/health/ready`)).status === 200, 20_000, 100)

  gw.child.kill('SIGTERM')
  await waitFor('readiness 503 shutting-down', async () => {
    const res = await fetch(`${gw.base}/health/ready`)
    return res.status === 503 && readyStatus(await res.text()) === 'shutting-down'
  }, 10_000, 20)

  gw.child.kill('SIGTERM')
  await waitFor('the repeated SIGTERM to be logged', () => gw.lines().some(l => typeof l.msg === 'string' && l.msg.startsWith('SIGTERM again')), 10_000, 20)
  const res = await fetch(`${gw.base}/health/ready`)
  t.equal(res.status, 503, 'still draining (and answering) after the second SIGTERM')
  t.equal(gw.child.exitCode, null, 'the second SIGTERM did not end the process')

  const sigintAt = Date.now()
  gw.child.kill('SIGINT')
  const { code } = await gw.exited
  const ms = Date.now() - sigintAt
  t.not(code, 0, `exit code ${String(code)}`)
  t.ok(ms < 2000, `exited ${ms} ms after the SIGINT`)
  t.match(gw.output(), /second SIGINT, exiting/)
})

t.test('a webhook that never answers does not hold the shutdown; its record stays uncommitted', async t => {
  const key = uniqueName('registry')
  const keys = registryKeys(key)
  const clientId = uniqueName('gw-sd3')
  const redis = await redisFor(t, key)
  const { admin } = await kafkaFor(t)
  const topic = await createTopic(admin, 1)
  const hook = await startHook(t, { hang: true })
  const groupId = uniqueName('sd-hang')
  const gw = await startGateway(t, childEnv(key, clientId))
  // a session far longer than the wait below: only a LeaveGroup can empty the group in time
  await defineGroup(gw, groupId, topic, { url: hook.url, timeoutMs: 120_000 }, { ...FAST_CONSUMER, sessionTimeoutMs: 60_000 })
  await waitForJoin(redis, key, clientId, groupId)
  const res = await postValues(gw, topic, ['never-answered'])
  t.equal(res.status, 200, res.body)
  await waitFor('the webhook to receive the record (and hang)', () => hook.values.includes('never-answered'), 30_000)

  const at = Date.now()
  gw.child.kill('SIGTERM')
  const { code } = await gw.exited
  const ms = Date.now() - at
  t.equal(code, 0, 'clean exit')
  t.ok(ms < SHUTDOWN_TIMEOUT_MS, `exited ${ms} ms after SIGTERM, without waiting for the webhook`)

  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] })
  t.equal(offsets[0]?.partitions[0]?.offset, '-1', 'nothing committed: the record is delivered again by the next member')
  t.same([await redis.hexists(key, clientId), await redis.exists(keys.alive(clientId)), await redis.exists(keys.status(clientId))], [0, 0, 0], 'registry entries gone')
  // on a loaded CI machine the state read right after the exit was once not Empty (which state, and why, unknown)
  let state: string | undefined
  await waitFor('the group to be Empty', async () => {
    state = (await admin.describeGroups([groupId])).groups[0]?.state
    return state === 'Empty'
  }, 20_000, 100).catch(() => {})
  t.equal(state, 'Empty', 'the group is Empty: the consumer left (its session would last 60 s)')
})

t.test('a delivery in flight at SIGTERM finishes within SHUTDOWN_DELIVERY_GRACE_MS and is committed', async t => {
  const key = uniqueName('registry')
  const clientId = uniqueName('gw-sd4')
  const redis = await redisFor(t, key)
  const { admin } = await kafkaFor(t)
  const topic = await createTopic(admin, 1)
  const hook = await startHook(t, { delayMs: 2000 })
  const groupId = uniqueName('sd-grace')
  const gw = await startGateway(t, childEnv(key, clientId, { SHUTDOWN_DELIVERY_GRACE_MS: '8000' }))
  await defineGroup(gw, groupId, topic, { url: hook.url, timeoutMs: 30_000 })
  await waitForJoin(redis, key, clientId, groupId)
  const res = await postValues(gw, topic, ['slow-but-answered', 'not-started'])
  t.equal(res.status, 200, res.body)
  await waitFor('the webhook to receive the first record', () => hook.arrivals.includes('slow-but-answered'), 30_000)

  gw.child.kill('SIGTERM')
  const { code } = await gw.exited
  t.equal(code, 0, 'clean exit')
  t.same(hook.values, ['slow-but-answered'], 'the delivery in flight was answered 2xx; the next record was not started')
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] })
  t.equal(offsets[0]?.partitions[0]?.offset, '1', 'its offset was committed before the group was left: no redelivery')
  t.ok(gw.lines().some(l => l.msg === 'stopping: deliveries in flight may finish first'), 'the grace was logged')
})
