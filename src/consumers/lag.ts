/**
 * Consumer lag of the partitions this instance holds: the high watermark minus the group's position.
 *
 * The position of a partition is the furthest of
 * - the group's committed offset (admin.fetchOffsets: one request per group), and
 * - the next offset this instance will deliver (a record delivered or dead-lettered but not yet committed
 *   is no longer behind),
 * (never below the low watermark: older records were deleted by retention), and, when neither is known (nothing committed, nothing delivered yet), where the consumer starts: the low
 * watermark with `fromBeginning`, else the high watermark (a new group starts at the end).
 *
 * Cost per measurement: one OffsetFetch per group and one ListOffsets round (admin.fetchTopicOffsets) per
 * distinct topic, only for groups that hold partitions here.
 */
import type { Admin } from 'kafkajs'

export interface LagTarget {
  groupId: string
  fromBeginning: boolean
  /** Partitions held by this instance, per topic. */
  assignment: Record<string, number[]>
  /** The next offset this instance will deliver on a partition, when it delivered something there. */
  nextOffset: (topic: string, partition: number) => bigint | undefined
}

export interface PartitionLag {
  topic: string
  partition: number
  /** Messages behind the high watermark (never negative). */
  lag: number
  highWatermark: string
  /** The group's committed offset, or null when the group has none on this partition. */
  committedOffset: string | null
}

function toBigInt (s: string | undefined): bigint | undefined {
  if (s === undefined || !/^-?\d+$/.test(s)) return undefined
  return BigInt(s)
}

/** Lag per group (by group id) of the given targets. Groups or topics whose offsets cannot be read are left out. */
export async function measureLag (admin: Admin, targets: readonly LagTarget[]): Promise<Map<string, PartitionLag[]>> {
  const out = new Map<string, PartitionLag[]>()
  const active = targets.filter(t => Object.values(t.assignment).some(p => p.length > 0))
  if (active.length === 0) return out

  const topics = [...new Set(active.flatMap(t => Object.keys(t.assignment)))]
  const watermarks = new Map<string, Map<number, { high: bigint, low: bigint, highText: string }>>()
  await Promise.all(topics.map(async topic => {
    try {
      const offsets = await admin.fetchTopicOffsets(topic)
      const byPartition = new Map<number, { high: bigint, low: bigint, highText: string }>()
      for (const o of offsets) {
        const high = toBigInt(o.high)
        const low = toBigInt(o.low)
        if (high !== undefined && low !== undefined) byPartition.set(o.partition, { high, low, highText: o.high })
      }
      watermarks.set(topic, byPartition)
    } catch {
      // a deleted topic, or Kafka unreachable: that topic's lag stays unknown this round
    }
  }))

  await Promise.all(active.map(async target => {
    let committed: Map<string, string>
    try {
      const groups = await admin.fetchOffsets({ groupId: target.groupId, topics: Object.keys(target.assignment) })
      committed = new Map()
      for (const t of groups) for (const p of t.partitions) committed.set(`${t.topic}\u0000${p.partition}`, p.offset)
    } catch {
      return
    }
    const list: PartitionLag[] = []
    for (const [topic, partitions] of Object.entries(target.assignment)) {
      const marks = watermarks.get(topic)
      if (marks === undefined) continue
      for (const partition of partitions) {
        const w = marks.get(partition)
        if (w === undefined) continue
        const committedText = committed.get(`${topic}\u0000${partition}`)
        const c = toBigInt(committedText)
        const hasCommit = c !== undefined && c >= 0n
        const local = target.nextOffset(topic, partition)
        let position: bigint
        if (hasCommit && local !== undefined) position = c > local ? c : local
        else if (hasCommit) position = c
        else if (local !== undefined) position = local
        else position = target.fromBeginning ? w.low : w.high
        // records below the low watermark are gone (retention): the consumer resumes at the low watermark
        if (position < w.low) position = w.low
        const behind = w.high - position
        list.push({
          topic,
          partition,
          lag: behind > 0n ? Number(behind) : 0,
          highWatermark: w.highText,
          committedOffset: hasCommit ? String(c) : null
        })
      }
    }
    out.set(target.groupId, list)
  }))
  return out
}
