/**
 * The supervisor: every instance runs one. On start and every heartbeat (REGISTRY_HEARTBEAT_MS) it
 *
 * 1. refreshes this instance's heartbeat (registry/liveness.ts) — if another instance took the clientId
 *    meanwhile it stops every consumer and logs an ERROR until it gets it back;
 * 2. checks `<key>:epoch`: when Redis lost its data it writes back the definitions it last read;
 * 3. sweeps dead instances (registry/sweep.ts);
 * 4. reads all definitions and this instance's stop markers and reconciles: starts the groups that
 *    apply here (no clientIds, or clientIds includes this clientId), stops removed or stopped ones,
 *    restarts changed ones (a different declaration hash) and failed ones;
 * 5. measures the consumer lag of the partitions this instance holds (lag.ts; in parallel with steps 1-4,
 *    bounded by one heartbeat) and rewrites this instance's registry entry (atomically, from what its
 *    consumers last joined with) and its status hash (counters per group and partition, lag included), so
 *    every instance's GET /consumer-groups shows every instance.
 *
 * While Redis is down nothing of this happens, and running consumers keep delivering; the first tick
 * after Redis returns rewrites everything. Ticks never overlap; `reconcileNow()` runs one at once
 * (after a POST or DELETE on this instance).
 */
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Kafka } from 'kafkajs'
import type { Logger } from 'pino'
import type { RegistryKeys } from '../registry/keys.js'
import type { Liveness } from '../registry/liveness.js'
import type { Registry, TopicPart } from '../registry/registry.js'
import { sweepDeadInstances } from '../registry/sweep.js'
import { withTimeout } from '../util/async.js'
import type { Deliverer, DeliveryEvent } from '../webhooks/types.js'
import { measureLag, type LagAdmin } from './lag.js'
import type { JoinInfo } from './runner/group-events.js'
import { createGroupRunner, type GroupRunner } from './runner/runner.js'
import { emptyStatus, type RunnerStatus } from './runner/status.js'
import { declarationFor, type Declaration, type DefinitionStore, type GroupRecord } from './store.js'

export interface GroupStatus extends RunnerStatus {
  /** Stopped by DELETE /consumers on this instance (until it restarts or the group is POSTed again). */
  stoppedByRequest?: boolean
}

export interface SupervisorDeps {
  clientId: string
  heartbeatMs: number
  redis: Redis
  keys: RegistryKeys
  kafka: Kafka
  deliverer: Deliverer
  registry: Registry
  liveness: Liveness
  store: DefinitionStore
  logger: Logger
  /** For lag measurement (committed offsets and high watermarks); without it lag stays unknown. */
  lagAdmin?: LagAdmin
  /** How long deliveries in flight may finish when a consumer stops (shutdown, DELETE, redefinition); default 0. */
  stopGraceMs?: number
  /** Builds a group's runner; tests may substitute it. */
  createRunner?: typeof createGroupRunner
}

/** One partition's lag, as the metrics read it. */
export interface LagSample {
  group: string
  topic: string
  partition: number
  lag: number
}

export interface Supervisor {
  /** Takes the heartbeat (throws DuplicateClientIdError when the clientId is live elsewhere), then ticks. */
  start (): Promise<void>
  /** Runs a tick now (after any in progress); resolves when it is done. */
  reconcileNow (): Promise<void>
  /** Status of every group this instance runs (or was asked to stop). */
  statuses (): Record<string, GroupStatus>
  /** Routes a deliverer event to the runner of its group (retries, last status and error per partition). */
  onDeliveryEvent (e: DeliveryEvent): void
  /** The last measured lag of every partition this instance holds. */
  lag (): LagSample[]
  /** Wall-clock ms of the last successful heartbeat refresh (it ages while Redis is unreachable or the clientId is taken); undefined before start and after close. */
  heartbeatAt (): number | undefined
  /** Stops ticking and every consumer, then deletes this instance's heartbeat, registry field and status. */
  close (): Promise<void>
}

interface Slot {
  runner: GroupRunner
  /** Runner instance id: events of a replaced runner are ignored. */
  id: number
}

export function createSupervisor (deps: SupervisorDeps): Supervisor {
  const { clientId, heartbeatMs, redis, keys, registry, liveness, store } = deps
  const log = deps.logger.child({ component: 'supervisor', clientId })
  const makeRunner = deps.createRunner ?? createGroupRunner
  const slots = new Map<string, Slot>()
  const stoppedByRequest = new Map<string, RunnerStatus>()
  let nextId = 1
  let timer: NodeJS.Timeout | undefined
  let beat: NodeJS.Timeout | undefined
  let closed = false
  let started = false
  let chain: Promise<void> = Promise.resolve()
  let epoch: string | undefined
  let snapshot = new Map<string, GroupRecord>()
  let redisDown = false
  let owner = false
  let loadAnnounced = false
  let lagRunning = false
  /** Lag measurement waits at most this long per tick (Kafka unreachable must not delay reconciling). */
  const lagTimeoutMs = Math.max(500, Math.min(heartbeatMs, 5000))

  function markRedisDown (err: unknown, what: string): void {
    if (!redisDown) log.warn({ err, what }, 'Redis unavailable: consumers keep running; registry and status are rewritten when it returns')
    redisDown = true
  }

  function allParts (): TopicPart[] {
    return [...slots.values()].flatMap(s => s.runner.parts())
  }

  function announceIfLoaded (): void {
    if (loadAnnounced || slots.size === 0) return
    const runners = [...slots.values()].map(s => s.runner)
    if (!runners.every(r => r.joined)) return
    loadAnnounced = true
    log.info({
      event: 'CONSUMERS_LOAD_COMPLETE',
      consumers: runners.map(r => ({
        groupId: r.groupId,
        topics: r.declaration.definition.topics.map(t => t.name),
        fromBeginning: r.declaration.definition.fromBeginning,
        isPartitionAssign: r.declaration.definition.isPartitionAssign
      }))
    }, 'all consumers of this instance joined their groups')
  }

  async function writeStatus (): Promise<void> {
    const key = keys.status(clientId)
    const m = redis.multi().del(key)
    for (const [groupId, status] of Object.entries(statuses())) m.hset(key, groupId, JSON.stringify(status))
    m.pexpire(key, liveness.ttlMs)
    const results = await m.exec()
    const failed = results?.find(([err]) => err !== null)
    if (failed !== undefined) throw failed[0]
  }

  function onJoin (slotId: number, groupId: string, parts: TopicPart[], join: JoinInfo): void {
    log.info({ event: 'JOIN_GROUP', ...join }, 'consumer joined its group')
    const slot = slots.get(groupId)
    if (slot?.id !== slotId) return
    registry.setGroup(clientId, groupId, parts)
      .then(() => writeStatus())
      // the next tick rewrites the whole entry
      .catch((err: unknown) => { markRedisDown(err, 'registry update after join') })
    announceIfLoaded()
  }

  function startRunner (groupId: string, declaration: Declaration): void {
    const id = nextId++
    const runner = makeRunner(groupId, declaration, {
      kafka: deps.kafka,
      deliverer: deps.deliverer,
      logger: deps.logger,
      onJoin: (gid, parts, join) => onJoin(id, gid, parts, join),
      onFailed: (gid, err) => { log.warn({ groupId: gid, err }, 'consumer failed; restarting it on the next heartbeat') }
    })
    slots.set(groupId, { runner, id })
    stoppedByRequest.delete(groupId)
    loadAnnounced = false
    log.info({ groupId, hash: declaration.hash, version: declaration.version }, 'starting consumer')
    void runner.start()
  }

  async function stopSlot (groupId: string, why: string, graceMs = deps.stopGraceMs ?? 0): Promise<void> {
    const slot = slots.get(groupId)
    if (slot === undefined) return
    slots.delete(groupId)
    log.info({ groupId, why }, 'stopping consumer')
    await slot.runner.stop(graceMs)
    if (why === 'stopped by request') stoppedByRequest.set(groupId, slot.runner.status())
  }

  async function reconcile (records: Map<string, GroupRecord>, stopMarkers: Record<string, string>): Promise<void> {
    const desired = new Map<string, Declaration>()
    for (const [groupId, record] of records) {
      const declaration = declarationFor(record, clientId)
      if (declaration === undefined) continue
      if (Object.hasOwn(stopMarkers, groupId)) {
        if (!stoppedByRequest.has(groupId) && !slots.has(groupId)) stoppedByRequest.set(groupId, idleStatus())
        continue
      }
      desired.set(groupId, declaration)
    }
    const stops: Array<Promise<void>> = []
    const restarts: Array<[string, Declaration]> = []
    for (const [groupId, slot] of slots) {
      const want = desired.get(groupId)
      if (want === undefined) {
        stops.push(stopSlot(groupId, Object.hasOwn(stopMarkers, groupId) ? 'stopped by request' : 'definition removed'))
      } else if (want.hash !== slot.runner.declaration.hash) {
        stops.push(stopSlot(groupId, 'definition changed'))
        restarts.push([groupId, want])
      } else if (slot.runner.state === 'failed') {
        stops.push(stopSlot(groupId, 'restarting after a failure'))
        restarts.push([groupId, want])
      }
    }
    await Promise.all(stops)
    for (const [groupId, declaration] of restarts) startRunner(groupId, declaration)
    for (const [groupId, declaration] of desired) {
      if (!slots.has(groupId)) startRunner(groupId, declaration)
    }
    for (const groupId of stoppedByRequest.keys()) {
      if (!records.has(groupId) || !Object.hasOwn(stopMarkers, groupId)) stoppedByRequest.delete(groupId)
    }
    // markers of groups that no longer exist are of no use
    const stale = Object.keys(stopMarkers).filter(g => !records.has(g))
    if (stale.length > 0) await redis.hdel(keys.stopped(clientId), ...stale)
  }

  function idleStatus (): RunnerStatus {
    return emptyStatus('stopped')
  }

  /**
   * Measures the lag of the partitions held here and hands it to the runners. Never rejects; skipped while
   * a previous measurement is still running (a slow cluster), bounded by lagTimeoutMs.
   */
  async function refreshLag (): Promise<void> {
    const lagAdmin = deps.lagAdmin
    if (lagAdmin === undefined || lagRunning) return
    const runners = [...slots.values()].map(s => s.runner)
    const targets = runners.map(r => r.lagTarget()).filter(t => Object.keys(t.assignment).length > 0)
    if (targets.length === 0) return
    lagRunning = true
    const measuring = (async () => {
      try {
        const result = await measureLag(await lagAdmin.get(), targets, () => { lagAdmin.replace() })
        const at = new Date()
        for (const r of runners) {
          const lag = result.get(r.groupId)
          // a runner replaced meanwhile is no longer in slots: its numbers do not matter
          if (lag !== undefined && slots.get(r.groupId)?.runner === r) r.applyLag(lag, at)
        }
      } catch (err) {
        log.debug({ err }, 'could not measure consumer lag')
      } finally {
        lagRunning = false
      }
    })()
    await withTimeout(measuring, lagTimeoutMs, 'lag measurement timed out').catch(() => {})
  }

  async function checkEpoch (): Promise<void> {
    let current = await redis.get(keys.epoch)
    if (current === null) {
      await redis.set(keys.epoch, randomBytes(8).toString('hex'), 'NX')
      current = await redis.get(keys.epoch)
    }
    if (epoch !== undefined && current !== epoch) {
      const restored = await store.restore(snapshot.values())
      log.warn({ restored }, 'Redis lost the gateway state (new epoch): wrote back the definitions and this instance\'s registry entry')
    }
    epoch = current ?? undefined
  }

  async function tick (): Promise<void> {
    if (closed) return
    const lag = refreshLag()
    try {
      await reconcileTick(lag)
    } finally {
      await lag
    }
  }

  async function reconcileTick (lag: Promise<void>): Promise<void> {
    let refreshed
    try {
      refreshed = await liveness.refresh()
    } catch (err) {
      markRedisDown(err, 'heartbeat')
      return
    }
    if (refreshed === 'taken') {
      if (owner || slots.size > 0) {
        log.error({ event: 'ERROR', clientId }, `another instance took KAFKA_CLIENT_ID "${clientId}" (its heartbeat key holds another token): stopping this instance's consumers`)
      }
      owner = false
      await Promise.all([...slots.keys()].map(g => stopSlot(g, 'clientId taken by another instance', 0)))
      return
    }
    if (refreshed === 'reacquired' && owner) {
      log.warn('this instance\'s heartbeat had expired (Redis unreachable for a while?): registered again')
    }
    owner = true
    try {
      await checkEpoch()
      const swept = await sweepDeadInstances(redis, keys, clientId)
      if (swept.length > 0) log.info({ swept }, 'removed the registry entries of dead instances')
      const [records, stopMarkers] = await Promise.all([store.list(), redis.hgetall(keys.stopped(clientId))])
      snapshot = records
      await reconcile(records, stopMarkers)
      await registry.replaceAll(clientId, allParts())
      await lag
      await writeStatus()
      if (redisDown) log.info('Redis available again: registry entry and status rewritten')
      redisDown = false
    } catch (err) {
      markRedisDown(err, 'reconcile')
    }
    announceIfLoaded()
  }

  function serial (fn: () => Promise<void>): Promise<void> {
    const run = chain.then(fn, fn)
    chain = run.catch((err: unknown) => { log.error({ err }, 'supervisor tick failed') })
    return run
  }

  function schedule (): void {
    if (closed) return
    timer = setTimeout(() => {
      void serial(tick).finally(schedule)
    }, heartbeatMs)
    timer.unref()
  }

  /**
   * The heartbeat also runs on its own timer, so a slow tick (consumers stopping, a slow Redis) never
   * lets it expire; ticks refresh it too and act on a lost clientId.
   */
  function startHeartbeat (): void {
    beat = setInterval(() => {
      // runs on after close() began, until the release: consumers finishing deliveries must not let it expire
      if (beat === undefined || !owner) return
      // a tick refreshed it lately: no second refresh this period (gaps stay under 1.5 heartbeats, the key lives 3)
      const last = liveness.lastRefreshedAt
      if (last !== undefined && Date.now() - last < heartbeatMs / 2) return
      liveness.refresh()
        .catch(() => { /* the next tick reports Redis trouble */ })
    }, heartbeatMs)
    beat.unref()
  }

  function statuses (): Record<string, GroupStatus> {
    const out: Record<string, GroupStatus> = {}
    for (const [groupId, status] of stoppedByRequest) out[groupId] = { ...status, state: 'stopped', running: false, stoppedByRequest: true }
    for (const [groupId, slot] of slots) out[groupId] = slot.runner.status()
    return out
  }

  return {
    async start () {
      if (started) return
      started = true
      try {
        await liveness.acquire()
        owner = true
        // a fresh start resumes everything: stop requests addressed to a previous run are void
        await redis.del(keys.stopped(clientId))
      } catch (err) {
        if (err instanceof Error && err.name === 'DuplicateClientIdError') throw err
        markRedisDown(err, 'start')
      }
      await serial(tick)
      schedule()
      startHeartbeat()
    },
    reconcileNow: () => serial(tick),
    statuses,
    onDeliveryEvent (e) {
      slots.get(e.groupId)?.runner.observe(e)
    },
    lag () {
      const out: LagSample[] = []
      for (const [group, slot] of slots) {
        for (const p of slot.runner.status().byPartition) {
          if (p.assigned && p.lag !== null) out.push({ group, topic: p.topic, partition: p.partition, lag: p.lag })
        }
      }
      return out
    },
    heartbeatAt: () => (closed ? undefined : liveness.lastRefreshedAt),
    async close () {
      if (closed) return
      closed = true
      clearTimeout(timer)
      await chain
      await Promise.all([...slots.keys()].map(g => stopSlot(g, 'shutdown')))
      clearInterval(beat)
      beat = undefined
      if (!started) return
      try {
        if (owner && !(await liveness.release())) log.warn('heartbeat key held by another token at shutdown: left alone')
      } catch (err) {
        log.warn({ err }, 'could not remove this instance from the registry at shutdown (Redis unavailable); its heartbeat expires on its own')
      }
    }
  }
}
