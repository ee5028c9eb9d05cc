/**
 * memory: gateway RSS at idle, under produce-single load (from that row), with GROUPS consumer groups
 * defined and joined, then with GROUPS_MANY (the first GROUPS included); a fresh gateway per repetition.
 */
import type { GatewayProcess } from '../../scripts/lib/launch/gateway.js'
import { waitUntil } from '../../scripts/lib/launch/wait.js'
import { defineGroups, groupDefinitions, registryTopics } from '../lib/delivery.js'
import { GROUP_RECORDS, GROUPS, GROUPS_MANY, REPS, RSS_TARGET_BYTES, VALUE } from '../lib/run-settings.js'
import { sampleRss } from '../lib/rss.js'
import { memRow, notRunRow, section, target } from '../lib/table.js'
import { median, MIB, sleep } from '../lib/util.js'
import { createTopics, launchGateway, type Bench } from './context.js'

type Group = { groupId: string, topic: string }

/** Waits until the gateway lists every group joined and the receiver has `records` records. */
async function waitJoined (b: Bench, gw: GatewayProcess, groups: Group[], records: number): Promise<void> {
  const rx = b.receiver
  const progress = { joined: 0 }
  // joining takes longer the more groups there are: 180 s, or 0.6 s per group beyond 300
  const timeoutMs = Math.max(180_000, groups.length * 600)
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
    return progress.joined === groups.length && rx.count() >= records
  }, timeoutMs, 500).catch(() => {
    throw new Error(`memory: after ${timeoutMs / 1000} s, ${progress.joined} of ${groups.length} groups joined and ${rx.count()} of ${records} records delivered`)
  })
}

/** Defines `more` groups, waits until all of `all` joined and delivered, lets the gateway settle 5 s, then the RSS peak over 5 s. */
async function groupsStep (b: Bench, gw: GatewayProcess, more: Group[], all: Group[]): Promise<{ peak: number, joinS: number }> {
  const t0 = performance.now()
  // POST /consumer-groups takes at most 100 groups per request
  for (let i = 0; i < more.length; i += 100) await defineGroups(gw, groupDefinitions(more.slice(i, i + 100), b.receiver.url))
  await waitJoined(b, gw, all, all.length * GROUP_RECORDS)
  const joinS = (performance.now() - t0) / 1000
  await sleep(5000)
  const busy = sampleRss(gw.pid, 200)
  await sleep(5000)
  return { peak: busy.stop().peakBytes, joinS }
}

interface MemoryRep { idle: number, groups: number, groupsMany: number, joinS: number, joinManyS: number }

/** One repetition: RSS peaks idle, with GROUPS groups and with GROUPS_MANY groups, and how long they took to join and deliver. */
async function repetition (b: Bench, groupTopics: string[], i: number): Promise<MemoryRep> {
  const gw = await launchGateway(b)
  b.gateway = gw
  // the sampling windows are the measurement: idle 5 s after the start, settled 5 s after the join
  await sleep(5000)
  const idle = sampleRss(gw.pid, 200)
  await sleep(2000)
  const idlePeak = idle.stop().peakBytes
  b.receiver.reset()
  const groups: Group[] = groupTopics.map((topic, t) => ({ groupId: `bench-mem-${b.suffix}-${i}-${t}`, topic }))
  const few = await groupsStep(b, gw, groups.slice(0, GROUPS), groups.slice(0, GROUPS))
  const many = await groupsStep(b, gw, groups.slice(GROUPS), groups)
  b.log(`# rep ${i}: idle ${(idlePeak / MIB).toFixed(0)} MiB; ${GROUPS} groups joined and delivered in ${few.joinS.toFixed(1)} s: ${(few.peak / MIB).toFixed(0)} MiB; ` +
    `${groups.length} groups in ${many.joinS.toFixed(1)} s more: ${(many.peak / MIB).toFixed(0)} MiB`)
  await fetch(`${gw.url}/consumers?all=true`, { method: 'DELETE' }).catch(() => undefined)
  await gw.stop()
  b.gateway = undefined
  return { idle: idlePeak, groups: few.peak, groupsMany: many.peak, joinS: few.joinS, joinManyS: many.joinS }
}

export async function memoryRows (b: Bench): Promise<void> {
  const total = Math.max(GROUPS, GROUPS_MANY)
  b.log(`\n## memory — idle, then ${GROUPS} and ${total} consumer groups on one-partition topics of their own, a fresh gateway per repetition`)
  const groupTopics = await createTopics(b, Array.from({ length: total }, (_, t) => `bench-mem-${b.suffix}-${t}`), 1)
  await b.producer.sendBatch({ acks: -1, topicMessages: groupTopics.map(topic => ({ topic, messages: Array.from({ length: GROUP_RECORDS }, () => ({ value: VALUE, headers: { 'content-type': 'text/plain; charset=utf-8' } })) })) })
  const reps: MemoryRep[] = []
  for (let i = 1; i <= REPS; i++) reps.push(await repetition(b, groupTopics, i))
  const of = (pick: (r: MemoryRep) => number): { reps: number[], median: number } => ({ reps: reps.map(pick), median: median(reps.map(pick)) })
  const ps = b.results.produceSingle as { gatewayPeakRssBytes?: { median: number } } | undefined
  const underLoad = ps?.gatewayPeakRssBytes?.median
  const few = of(r => r.groups).median
  const many = of(r => r.groupsMany).median
  const mib = (n: number): string => `${(n / MIB).toFixed(0)} MiB`
  b.targets.push(
    target(`memory: RSS with ${GROUPS} consumer groups ≤ ${mib(RSS_TARGET_BYTES.groups)}`, few / RSS_TARGET_BYTES.groups, `≤ 1.00 (of ${mib(RSS_TARGET_BYTES.groups)})`),
    target(`memory: RSS with ${total} consumer groups ≤ ${mib(RSS_TARGET_BYTES.groupsMany)}`, many / RSS_TARGET_BYTES.groupsMany, `≤ 1.00 (of ${mib(RSS_TARGET_BYTES.groupsMany)})`)
  )
  b.results.memory = {
    source: '/proc/<pid>/status VmRSS, sampled every 200-250 ms; peak of each window, median over repetitions',
    idleBytes: of(r => r.idle),
    underProduceSingleBytes: underLoad === undefined ? { notRun: 'produce-single not run' } : { median: underLoad },
    groups: GROUPS,
    withGroupsBytes: of(r => r.groups),
    groupsJoinedAndDeliveredSeconds: of(r => r.joinS),
    groupsMany: total,
    withGroupsManyBytes: of(r => r.groupsMany),
    groupsManyJoinedAndDeliveredSeconds: of(r => r.joinManyS)
  }
  b.lines.push(
    section('memory', 'gateway RSS (VmRSS), peak of each sampling window, median over repetitions', '', '', 'RSS'),
    memRow('idle (5 s after start)', of(r => r.idle).median),
    underLoad === undefined ? notRunRow('under produce-single load (peak)', 'produce-single not run') : memRow('under produce-single load (peak)', underLoad),
    memRow(`${GROUPS} consumer groups joined (${GROUPS} topics)`, few, RSS_TARGET_BYTES.groups),
    memRow(`${total} consumer groups joined (${total} topics)`, many, RSS_TARGET_BYTES.groupsMany)
  )
}
