/**
 * The delivery benchmark's references, each in a process of its own (forked by ./bare-consumer.js), so
 * neither shares an event loop with the receiver:
 * - mode `read`: a bare kafkajs consumer (eachBatch) that only counts records — how fast kafkajs reads;
 * - mode `http`: the same consumer POSTing every record, in partition order, to the receiver with undici —
 *   what a hand-written kafkajs + undici webhook pusher does — with the fetch time in `x-fetched-at`.
 * Both use the gateway's consumer settings (round-robin, 30 s session, 3 s heartbeat, 500 ms max wait,
 * auto-commit every second, `concurrency` partitions at a time) in a new group reading from the beginning.
 *
 * IPC: receives `ChildCommand`s one at a time, answers each with a `ChildResult`; `exit` ends it.
 */
import kafkajs from 'kafkajs'
import { Agent, request } from 'undici'

const { Kafka, PartitionAssigners, logLevel } = kafkajs

export interface RunCommand {
  type: 'run'
  brokers: string[]
  topic: string
  groupId: string
  /** Stop once this many records were handled. */
  expected: number
  mode: 'read' | 'http'
  /** Receiver URL (mode http). */
  url?: string
  concurrency: number
  /** Give up when nothing arrives for this long. */
  stallMs: number
}

export type ChildCommand = RunCommand | { type: 'exit' }

export interface ChildResult {
  ok: boolean
  error?: string
  /** Records handled (read, or delivered with a 2xx). */
  count: number
  /**
   * Epoch ms (performance.timeOrigin based) the span starts (mode read: the first fetch request after the
   * join; mode http: the first record seen) and of the last record handled.
   */
  firstAt: number
  lastAt: number
  /** consumer.run() to the first record, ms: group join and first fetch. */
  joinMs: number
  /** Non-2xx answers or request errors (mode http; the record is retried). */
  failures: number
}

const now = (): number => performance.timeOrigin + performance.now()

let agent: Agent | undefined

function envelope (topic: string, partition: number, m: kafkajs.KafkaMessage): string {
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v === undefined) continue
    const first = Array.isArray(v) ? v[0] : v
    headers[k] = first === undefined ? '' : first.toString()
  }
  return JSON.stringify({
    topic,
    partition,
    offset: m.offset,
    timestamp: m.timestamp,
    key: m.key === null ? null : m.key.toString('utf8'),
    value: m.value === null ? null : m.value.toString('utf8'),
    headers
  })
}

async function run (cmd: RunCommand): Promise<ChildResult> {
  const kafka = new Kafka({ clientId: `bench-bare-${cmd.mode}`, brokers: cmd.brokers, logLevel: logLevel.NOTHING })
  const consumer = kafka.consumer({
    groupId: cmd.groupId,
    partitionAssigners: [PartitionAssigners.roundRobin],
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
    rebalanceTimeout: 60_000,
    maxWaitTimeInMs: 500,
    allowAutoTopicCreation: false
  })
  if (cmd.mode === 'http') agent ??= new Agent({ connections: 64, pipelining: 1, keepAliveTimeout: 30_000 })
  const url = cmd.url ?? ''
  let count = 0
  let failures = 0
  let firstAt = 0
  let lastAt = 0
  let lastProgress = Date.now()
  let resolveDone: () => void = () => undefined
  const done = new Promise<void>(resolve => { resolveDone = resolve })
  const started = now()
  // mode read: the span starts when the first fetch after the join is sent (a record-to-record span would
  // leave out the first fetch, which is a good part of the run when the topic fits in a few fetches)
  let joined = false
  let firstFetchAt = 0
  consumer.on(consumer.events.GROUP_JOIN, () => { joined = true })
  consumer.on(consumer.events.FETCH_START, () => { if (joined && firstFetchAt === 0) firstFetchAt = now() })

  await consumer.connect()
  await consumer.subscribe({ topics: [cmd.topic], fromBeginning: true })
  await consumer.run({
    autoCommit: true,
    autoCommitInterval: 1000,
    partitionsConsumedConcurrently: cmd.concurrency,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      const fetchedAt = now()
      if (firstAt === 0) firstAt = fetchedAt
      if (cmd.mode === 'read') {
        const last = batch.messages[batch.messages.length - 1]
        if (last !== undefined) resolveOffset(last.offset)
        count += batch.messages.length
        lastAt = now()
        lastProgress = Date.now()
        if (count >= cmd.expected) resolveDone()
        await heartbeat()
        return
      }
      for (const m of batch.messages) {
        if (!isRunning() || isStale()) return
        for (;;) {
          try {
            const res = await request(url, {
              dispatcher: agent,
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-fetched-at': String(fetchedAt) },
              body: envelope(batch.topic, batch.partition, m)
            })
            await res.body.dump()
            if (res.statusCode >= 200 && res.statusCode < 300) break
            failures++
          } catch {
            failures++
          }
          await new Promise(resolve => setTimeout(resolve, 100))
        }
        resolveOffset(m.offset)
        count++
        lastAt = now()
        lastProgress = Date.now()
        if (count >= cmd.expected) resolveDone()
        await heartbeat()
      }
    }
  })

  let error: string | undefined
  const watchdog = setInterval(() => {
    if (Date.now() - lastProgress > cmd.stallMs) {
      error = `no progress for ${cmd.stallMs} ms (${count} of ${cmd.expected} records)`
      resolveDone()
    }
  }, 1000)
  await done
  clearInterval(watchdog)
  await consumer.disconnect().catch(() => undefined)
  const spanFrom = cmd.mode === 'read' && firstFetchAt > 0 ? firstFetchAt : firstAt
  return { ok: error === undefined, ...(error !== undefined ? { error } : {}), count, firstAt: spanFrom, lastAt, joinMs: firstAt - started, failures }
}

process.on('message', (cmd: ChildCommand) => {
  const send = (msg: ChildResult): void => { process.send?.(msg) }
  if (cmd.type === 'exit') {
    void (agent?.close() ?? Promise.resolve()).finally(() => { process.disconnect() })
    return
  }
  run(cmd).then(send, (err: unknown) => {
    send({ ok: false, error: err instanceof Error ? err.message : String(err), count: 0, firstAt: 0, lastAt: 0, joinMs: 0, failures: 0 })
  })
})
