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
import type { Admin, Kafka } from 'kafkajs'
import { isStaleMetadataError } from '../kafka/stale-metadata.js'

/**
 * The admin lag measurement reads offsets with. kafkajs adds every topic an admin reads offsets of to that
 * admin's metadata list for good, and once one of them is deleted every later request of that admin fails
 * (src/kafka/replaceable-producer.ts explains the same flaw for the producer). So lag gets its own admin,
 * never the shared one (topic checks, dead-letter topic creation), and replaces it when a measurement
 * meets a deleted topic.
 */
export interface LagAdmin {
  get (): Promise<Admin>
  /** Drops the current admin (disconnected in the background); the next get() connects a fresh one. */
  replace (): void
  close (): Promise<void>
}

export function createLagAdmin (kafka: Kafka): LagAdmin {
  let current: { admin: Admin, connected: Promise<void> } | undefined
  const open = (): { admin: Admin, connected: Promise<void> } => {
    const admin = kafka.admin()
    return { admin, connected: admin.connect() }
  }
  return {
    async get () {
      current ??= open()
      const mine = current
      try {
        await mine.connected
      } catch (err) {
        if (current === mine) current = undefined
        throw err
      }
      return mine.admin
    },
    replace () {
      const old = current
      current = undefined
      if (old !== undefined) void old.connected.then(() => old.admin.disconnect(), () => {}).catch(() => {})
    },
    async close () {
      const old = current
      current = undefined
      if (old !== undefined) await old.connected.then(() => old.admin.disconnect(), () => {})
    }
  }
}

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
export async function measureLag (admin: Admin, targets: readonly LagTarget[], onStaleMetadata: () => void = () => {}): Promise<Map<string, PartitionLag[]>> {
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
    } catch (err) {
      // a deleted topic, or Kafka unreachable: that topic's lag stays unknown this round
      if (isStaleMetadataError(err)) onStaleMetadata()
    }
  }))

  await Promise.all(active.map(async target => {
    let committed: Map<string, string>
    try {
      const groups = await admin.fetchOffsets({ groupId: target.groupId, topics: Object.keys(target.assignment) })
      committed = new Map()
      for (const t of groups) for (const p of t.partitions) committed.set(`${t.topic}\u0000${p.partition}`, p.offset)
    } catch (err) {
      if (isStaleMetadataError(err)) onStaleMetadata()
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
