/**
 * The "custom-assigner" partition assigner, done right: every member declares, in its join-group
 * metadata, the partitions it wants; the group leader gives each member exactly what it declared.
 *
 * kafkajs has no manual `assign()`, so a consumer that must read fixed partitions joins a group whose
 * protocol is this assigner. The seed library (syrup-kafka) used the same protocol name but gave every
 * member the leader's own partitions; its members send no declaration and get nothing from this one.
 *
 * Wire format: `AssignerProtocol.MemberMetadata { version: 1, topics, userData }` where userData is
 * the JSON `{"partitions":{"<topic>":[0,1]}}`.
 */
import kafkajs, { type Cluster, type GroupMemberAssignment, type Logger, type PartitionAssigner } from 'kafkajs'

const { AssignerProtocol } = kafkajs

export const CUSTOM_ASSIGNER_PROTOCOL = 'custom-assigner'
const VERSION = 1
const MAX_PARTITION = 0x7fffffff

/** Partitions per topic. */
export type Declaration = Record<string, number[]>

function isPartition (value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_PARTITION
}

/** Sorted, without duplicates. */
function normalize (partitions: readonly number[]): number[] {
  return [...new Set(partitions)].sort((a, b) => a - b)
}

/** The userData a member sends: `{"partitions":{"topicA":[0,1]}}`. */
export function encodeDeclaration (partitions: Declaration): Buffer {
  return Buffer.from(JSON.stringify({ partitions }))
}

/**
 * Reads a member's declaration from its userData. `undefined` when there is none, or when it is not
 * the JSON this assigner writes (for instance a syrup-kafka member, which sends no userData).
 */
export function decodeDeclaration (userData: Buffer | null | undefined): Declaration | undefined {
  if (userData === null || userData === undefined || userData.length === 0) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(userData.toString('utf8'))
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined
  const partitions: unknown = (parsed as { partitions?: unknown }).partitions
  if (typeof partitions !== 'object' || partitions === null || Array.isArray(partitions)) return undefined
  const declaration: Declaration = {}
  for (const [topic, list] of Object.entries(partitions)) {
    if (topic === '' || !Array.isArray(list) || !list.every(isPartition)) return undefined
    declaration[topic] = normalize(list)
  }
  return declaration
}

export interface PartitionOverlap {
  topic: string
  partition: number
  memberIds: string[]
}

/** Every topic-partition declared by more than one member (sorted by topic, then partition). */
export function overlappingDeclarations (
  members: Array<{ memberId: string, partitions: Record<string, number[]> }>
): PartitionOverlap[] {
  const owners = new Map<string, Map<number, Set<string>>>()
  for (const { memberId, partitions } of members) {
    for (const [topic, list] of Object.entries(partitions)) {
      let byPartition = owners.get(topic)
      if (byPartition === undefined) owners.set(topic, byPartition = new Map())
      for (const partition of list) {
        let ids = byPartition.get(partition)
        if (ids === undefined) byPartition.set(partition, ids = new Set())
        ids.add(memberId)
      }
    }
  }
  const overlaps: PartitionOverlap[] = []
  for (const topic of [...owners.keys()].sort()) {
    const byPartition = owners.get(topic) as Map<number, Set<string>>
    for (const partition of [...byPartition.keys()].sort((a, b) => a - b)) {
      const ids = byPartition.get(partition) as Set<string>
      if (ids.size > 1) overlaps.push({ topic, partition, memberIds: [...ids].sort() })
    }
  }
  return overlaps
}

interface DecodedMember {
  memberId: string
  /** The member's own subscription; undefined when its metadata could not be decoded. */
  topics: string[] | undefined
  declaration: Declaration | undefined
}

function decodeMember (memberId: string, memberMetadata: Buffer): DecodedMember {
  try {
    const metadata = AssignerProtocol.MemberMetadata.decode(memberMetadata)
    if (metadata === null) return { memberId, topics: undefined, declaration: undefined }
    return { memberId, topics: metadata.topics, declaration: decodeDeclaration(metadata.userData) }
  } catch {
    return { memberId, topics: undefined, declaration: undefined }
  }
}

/** Partition ids the leader's metadata knows for `topic`; undefined when it knows none. */
function knownPartitions (cluster: Cluster, topic: string): Set<number> | undefined {
  try {
    const partitions = cluster.findTopicPartitionMetadata(topic)
    return partitions.length === 0 ? undefined : new Set(partitions.map(p => p.partitionId))
  } catch {
    return undefined
  }
}

/**
 * A kafkajs partition assigner (protocol `custom-assigner`) through which this member declares
 * `declared` (partitions per topic). When this member leads the group, each member gets exactly the
 * partitions it declared for topics of the group's subscription that it subscribes to; a partition
 * declared by several members goes to each of them; members without a declaration get nothing.
 */
export function declaredPartitionAssigner (declared: Record<string, number[]>): PartitionAssigner {
  const own: Declaration = {}
  for (const [topic, list] of Object.entries(declared)) {
    if (topic === '') throw new TypeError('declaredPartitionAssigner: empty topic name')
    if (!Array.isArray(list) || !list.every(isPartition)) {
      throw new TypeError(`declaredPartitionAssigner: partitions of topic "${topic}" must be non-negative integers`)
    }
    own[topic] = normalize(list)
  }
  const userData = encodeDeclaration(own)

  return ({ cluster, groupId, logger }: { cluster: Cluster, groupId: string, logger: Logger }) => ({
    name: CUSTOM_ASSIGNER_PROTOCOL,
    version: VERSION,

    protocol ({ topics }: { topics: string[] }) {
      return {
        name: CUSTOM_ASSIGNER_PROTOCOL,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: VERSION, topics, userData })
      }
    },

    async assign ({ members, topics }): Promise<GroupMemberAssignment[]> {
      const subscription = new Set(topics)
      const decoded = members.map(m => decodeMember(m.memberId, m.memberMetadata))
      const assignments = new Map<string, Declaration>()

      for (const member of decoded) {
        const assignment: Declaration = {}
        assignments.set(member.memberId, assignment)
        if (member.declaration === undefined) {
          logger.warn('Group member declares no partitions: it gets an empty assignment', {
            groupId, memberId: member.memberId, protocol: CUSTOM_ASSIGNER_PROTOCOL
          })
          continue
        }
        const memberTopics = member.topics === undefined ? undefined : new Set(member.topics)
        for (const [topic, partitions] of Object.entries(member.declaration)) {
          if (!subscription.has(topic) || (memberTopics !== undefined && !memberTopics.has(topic))) {
            logger.warn('Group member declares partitions of a topic outside the subscription: ignored', {
              groupId, memberId: member.memberId, topic, partitions, subscription: topics
            })
            continue
          }
          const known = knownPartitions(cluster, topic)
          const existing = known === undefined ? partitions : partitions.filter(p => known.has(p))
          if (existing.length < partitions.length) {
            logger.warn('Group member declares partitions the topic does not have: ignored', {
              groupId, memberId: member.memberId, topic, missing: partitions.filter(p => !existing.includes(p))
            })
          }
          if (existing.length > 0) assignment[topic] = existing
        }
      }

      const overlaps = overlappingDeclarations(
        decoded.map(m => ({ memberId: m.memberId, partitions: assignments.get(m.memberId) ?? {} }))
      )
      if (overlaps.length > 0) {
        logger.warn('Several group members declare the same partitions: each of them receives their messages', {
          groupId, overlaps
        })
      }

      return decoded.map(({ memberId }) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: VERSION,
          assignment: assignments.get(memberId) ?? {},
          userData: Buffer.alloc(0)
        })
      }))
    }
  })
}
