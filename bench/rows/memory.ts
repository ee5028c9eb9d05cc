/** memory: gateway RSS at idle, under produce-single load (from that row), and with GROUPS consumer groups joined; a fresh gateway per repetition. */
import type { GatewayProcess } from '../../scripts/lib/launch/gateway.js'
import { waitUntil } from '../../scripts/lib/launch/wait.js'
import { defineGroups, groupDefinitions, registryTopics } from '../lib/delivery.js'
import { GROUP_RECORDS, GROUPS, REPS, RSS_TARGET_BYTES, VALUE } from '../lib/run-settings.js'
import { sampleRss } from '../lib/rss.js'
import { memRow, notRunRow, section } from '../lib/table.js'
import { median, MIB, sleep } from '../lib/util.js'
import { createTopic, launchGateway, type Bench } from './context.js'

/** Waits until the gateway lists every group joined and the receiver has every record. */
async function waitJoined (b: Bench, gw: GatewayProcess, groups: Array<{ groupId: string, topic: string }>): Promise<void> {
  const rx = b.receiver
  const progress = { joined: 0 }
  await waitUntil(`${groups.length} groups joined and delivered`, async () => {
    // the gateway may shed this request (503) on a busy machine: ask again
    const reg = await registryTopics(gw).catch((err: unknown) => {
      b.log(`# GET /consumers: ${err instanceof Error ? err.message.slice(0, 200) : String(err)}; retrying`)
      return {} as Awaited<ReturnType<typeof registryTopics>>
    })
    progress.joined = groups.filter(g => {
      const e = reg[g.topic]
      return e !== undefined && (e.groupId === g.groupId || (e.groups ?? []).some(x => x.groupId === g.groupId))
    }).length
    return progress.joined === groups.length && rx.count() >= groups.length * GROUP_RECORDS
  }, 180_000, 500).catch(() => {
    throw new Error(`memory: after 180 s, ${progress.joined} of ${groups.length} groups joined and ${rx.count()} of ${groups.length * GROUP_RECORDS} records delivered`)
  })
}

/** One repetition: RSS peaks idle and with the groups joined, and how long they took to join and deliver. */
async function repetition (b: Bench, groupTopics: string[], i: number): Promise<{ idle: number, groups: number, joinS: number }> {
  const gw = await launchGateway(b)
  b.gateway = gw
  // the sampling windows are the measurement: idle 5 s after the start, settled 5 s after the join
  await sleep(5000)
  const idle = sampleRss(gw.pid, 200)
  await sleep(2000)
  const idlePeak = idle.stop().peakBytes
  b.receiver.reset()
  const t0 = performance.now()
  const groups = groupTopics.map((topic, t) => ({ groupId: `bench-mem-${b.suffix}-${i}-${t}`, topic }))
  await defineGroups(gw, groupDefinitions(groups, b.receiver.url))
  await waitJoined(b, gw, groups)
  const joinS = (performance.now() - t0) / 1000
  await sleep(5000)
  const busy = sampleRss(gw.pid, 200)
  await sleep(5000)
  const groupsPeak = busy.stop().peakBytes
  b.log(`# rep ${i}: idle ${(idlePeak / MIB).toFixed(0)} MiB; ${GROUPS} groups joined and delivered in ${joinS.toFixed(1)} s; then ${(groupsPeak / MIB).toFixed(0)} MiB`)
  await fetch(`${gw.url}/consumers?all=true`, { method: 'DELETE' }).catch(() => undefined)
  await gw.stop()
  b.gateway = undefined
  return { idle: idlePeak, groups: groupsPeak, joinS }
}

export async function memoryRows (b: Bench): Promise<void> {
  b.log(`\n## memory — idle, then ${GROUPS} consumer groups on ${GROUPS} topics, a fresh gateway per repetition`)
  const groupTopics: string[] = []
  for (let t = 0; t < GROUPS; t++) groupTopics.push(await createTopic(b, `bench-mem-${b.suffix}-${t}`, 1))
  await b.producer.sendBatch({ acks: -1, topicMessages: groupTopics.map(topic => ({ topic, messages: Array.from({ length: GROUP_RECORDS }, () => ({ value: VALUE, headers: { 'content-type': 'text/plain; charset=utf-8' } })) })) })
  const reps: Array<{ idle: number, groups: number, joinS: number }> = []
  for (let i = 1; i <= REPS; i++) reps.push(await repetition(b, groupTopics, i))
  const idleReps = reps.map(r => r.idle)
  const groupsReps = reps.map(r => r.groups)
  const joinSeconds = reps.map(r => r.joinS)
  const ps = b.results.produceSingle as { gatewayPeakRssBytes?: { median: number } } | undefined
  const underLoad = ps?.gatewayPeakRssBytes?.median
  const groupsMedian = median(groupsReps)
  b.targets.push({ what: `memory: RSS with ${GROUPS} consumer groups < 200 MiB`, ratio: groupsMedian / RSS_TARGET_BYTES, goal: '< 1.00 (of 200 MiB)', met: groupsMedian < RSS_TARGET_BYTES })
  b.results.memory = {
    source: '/proc/<pid>/status VmRSS, sampled every 200-250 ms; peak of each window, median over repetitions',
    idleBytes: { reps: idleReps, median: median(idleReps) },
    underProduceSingleBytes: underLoad === undefined ? { notRun: 'produce-single not run' } : { median: underLoad },
    groups: GROUPS,
    withGroupsBytes: { reps: groupsReps, median: groupsMedian },
    groupsJoinedAndDeliveredSeconds: { reps: joinSeconds, median: median(joinSeconds) }
  }
  b.lines.push(
    section('memory', 'gateway RSS (VmRSS), peak of each sampling window, median over repetitions', '', '', 'RSS'),
    memRow('idle (5 s after start)', median(idleReps)),
    underLoad === undefined ? notRunRow('under produce-single load (peak)', 'produce-single not run') : memRow('under produce-single load (peak)', underLoad),
    memRow(`${GROUPS} consumer groups joined (${GROUPS} topics)`, groupsMedian, '< 200 MiB')
  )
}
