/**
 * End-to-end counting harness (issue 8, item 1): every message is produced through POST /messages
 * (producer.ts), delivered through a consumer group to a real receiver (receiver.ts), and accounted for at
 * the end: once the group's committed offsets reach the end of every partition, the dead-letter topic is
 * read and the invariants are checked (verify.ts). Faults and the duplicate bound: faults.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { waitUntil } from '../../scripts/lib/launch/wait.js'
import { SAMPLE_MS, type FaultEvent, type Sample, type Trigger } from './faults.js'
import { groupProgress, kafkaClient, readDeadLetters, withAdmin, type PartitionProgress } from './kafka.js'
import { ProducerClient, type ProduceOptions } from './producer.js'
import type { CountingReceiver } from './receiver.js'
import type { Verdict } from './report.js'
import { verify } from './verify.js'

export interface CountingOptions {
  fault: string
  brokers: string
  topic: string
  groupId: string
  deadLetterTopic: string
  receiver: CountingReceiver
  produce: ProduceOptions
  triggers?: Trigger[]
  /** Faults present for the whole run (e.g. the flaky receiver), shown in the report. */
  background?: Array<Pick<FaultEvent, 'name' | 'kind'>>
  drainTimeoutMs: number
  seed?: number
  log?: (line: string) => void
}

export async function runCounting (opts: CountingOptions): Promise<Verdict> {
  const log = opts.log ?? (() => undefined)
  const producer = new ProducerClient(opts.produce)
  const faults: FaultEvent[] = []
  const count = opts.produce.count
  const started = performance.now()
  const background: FaultEvent[] = (opts.background ?? []).map(b => ({ ...b, start: started, end: Number.NaN, windowEnd: Number.NaN, writeWindowEnd: Number.NaN }))

  // committed offsets, sampled until the run is drained (a failed sample, e.g. with the broker down, is skipped)
  const samples: Sample[] = []
  let sampling = true
  const sampler = (async () => {
    const admin = kafkaClient(opts.brokers, 'reliability-sampler').admin()
    try {
      await admin.connect()
    } catch { /* retried below through the admin's own reconnects */ }
    while (sampling) {
      try {
        const res = await admin.fetchOffsets({ groupId: opts.groupId, topics: [opts.topic] })
        const committed = new Map((res[0]?.partitions ?? []).map(p => [p.partition, Number(p.offset)]))
        samples.push({ at: performance.now(), committed, highest: opts.receiver.highestHandled() })
      } catch { /* no sample */ }
      await sleep(SAMPLE_MS)
    }
    await admin.disconnect().catch(() => undefined)
  })()

  const producing = producer.run()
  const triggering = (async () => {
    for (const tr of opts.triggers ?? []) {
      const acceptedAt = Math.ceil((tr.when.accepted ?? 0) * count)
      const handledAt = Math.ceil((tr.when.handled ?? 0) * count)
      const afterMs = tr.when.afterMs ?? 0
      await waitUntil(`trigger "${tr.name}" (accepted ≥ ${acceptedAt}, handled ≥ ${handledAt}, ${afterMs} ms)`,
        () => producer.accepted >= acceptedAt && opts.receiver.handledIds() >= handledAt && performance.now() - started >= afterMs,
        opts.drainTimeoutMs + afterMs, 20)
      const f: FaultEvent = { name: tr.name, kind: tr.kind, start: performance.now(), end: Number.NaN, windowEnd: Number.NaN, writeWindowEnd: Number.NaN }
      log(`fault "${tr.name}" at accepted=${producer.accepted} handled=${opts.receiver.handledIds()}`)
      try {
        const windows = await tr.run({ producer, receiver: opts.receiver, log })
        if (typeof windows?.windowEnd === 'number') f.windowEnd = windows.windowEnd
        if (typeof windows?.writeWindowEnd === 'number') f.writeWindowEnd = windows.writeWindowEnd
      } finally {
        f.end = performance.now()
        if (Number.isNaN(f.windowEnd)) f.windowEnd = f.end
        if (Number.isNaN(f.writeWindowEnd)) f.writeWindowEnd = f.end
        faults.push(f)
        log(`fault "${tr.name}" over after ${Math.round(f.end - f.start)} ms`)
      }
    }
  })()
  const [produced, triggered] = await Promise.allSettled([producing, triggering])
  if (produced.status === 'rejected') throw produced.reason
  if (triggered.status === 'rejected') throw triggered.reason
  for (const b of background) b.end = performance.now()
  log(`produced: accepted ${producer.accepted}/${count} in ${Math.round(performance.now() - started)} ms`)

  // drained: the group committed the end of every partition (every record delivered or dead-lettered)
  let drained = false
  let progress: PartitionProgress[] = []
  await withAdmin(opts.brokers, async admin => {
    try {
      await waitUntil('the group to commit the end of every partition', async () => {
        progress = await groupProgress(admin, opts.groupId, opts.topic)
        return progress.every(p => p.committed >= p.high) ? true : undefined
      }, opts.drainTimeoutMs, 200)
      drained = true
    } catch {
      log(`not drained: ${progress.map(p => `p${p.partition} committed ${p.committed}/${p.high}`).join(', ')}`)
    }
  })
  const durationMs = performance.now() - started
  sampling = false
  await sampler
  const deadLetters = await readDeadLetters(opts.brokers, opts.deadLetterTopic)
  return verify({
    fault: opts.fault,
    ledger: producer.ledger,
    handled: opts.receiver.handled,
    receiver: opts.receiver.stats,
    deadLetters,
    progress,
    drained,
    faults: [...background, ...faults],
    samples,
    durationMs,
    seed: opts.seed
  })
}
