/**
 * Warnings for a partition-assigned declaration whose partitions are consumed more than once: on several
 * instances, by another declaration of the group, or by another process (syrup-kafka, or gateways outside
 * this declaration) that the registry shows in the same group.
 */
import type { Registry } from '../registry/registry.js'
import type { GroupDefinition } from './definition.js'
import type { Declaration, GroupRecord } from './store.js'

export interface DefinitionWarning {
  groupId: string
  message: string
  topic?: string
  partitions?: number[]
  clientIds?: string[]
}

type RegistryRows = Awaited<ReturnType<Registry['readAll']>>

/** What a declaration is checked against: its group's record, the live gateways, the registry's rows. */
export interface OverlapScene {
  record: GroupRecord
  gateways: string[]
  rows: RegistryRows
}

export function overlapWarnings (groupId: string, self: Declaration, scene: OverlapScene): DefinitionWarning[] {
  const def = self.definition
  if (!def.isPartitionAssign) return []
  return [...scopeWarnings(groupId, def, scene.gateways), ...declarationOverlaps(groupId, self, scene.record), ...registryOverlaps(groupId, def, scene)]
}

function scopeWarnings (groupId: string, def: GroupDefinition, gateways: string[]): DefinitionWarning[] {
  const scope = def.clientIds
  if (scope !== undefined && scope.length > 1) {
    return [{ groupId, clientIds: scope, message: `group "${groupId}" declares the same partitions on ${scope.length} instances (${scope.join(', ')}): each of them consumes, and delivers, every record of those partitions` }]
  }
  if (scope === undefined && gateways.length > 1) {
    return [{ groupId, clientIds: gateways, message: `group "${groupId}" has no clientIds, so each of the ${gateways.length} live instances declares the same partitions and delivers every record of them; give each instance its own declaration with clientIds to split them` }]
  }
  return []
}

function declarationOverlaps (groupId: string, self: Declaration, record: GroupRecord): DefinitionWarning[] {
  const warnings: DefinitionWarning[] = []
  for (const other of record.declarations) {
    if (other.hash === self.hash) continue
    for (const topic of self.definition.topics) {
      const theirs = other.definition.topics.find(t => t.name === topic.name)?.partitions ?? []
      const both = intersect(topic.partitions ?? [], theirs)
      if (both.length > 0) {
        warnings.push({ groupId, topic: topic.name, partitions: both, clientIds: other.definition.clientIds ?? [], message: `partitions ${both.join(', ')} of topic "${topic.name}" are also declared in group "${groupId}" for ${other.definition.clientIds?.join(', ') ?? 'every instance'}: each consumes them` })
      }
    }
  }
  return warnings
}

/** Other processes consuming the same partitions in this group, one warning per process. */
function registryOverlaps (groupId: string, def: GroupDefinition, { record, rows }: OverlapScene): DefinitionWarning[] {
  const warnings: DefinitionWarning[] = []
  const scope = def.clientIds
  for (const row of rows) {
    if (!row.alive || (row.gateway && (scope === undefined || scope.includes(row.clientId)))) continue
    if (row.gateway && record.declarations.some(d => d.definition.clientIds?.includes(row.clientId))) continue
    for (const topic of def.topics) {
      const entry = row.entry[topic.name]
      if (entry === undefined) continue
      const candidates = [entry, ...(Array.isArray(entry.groups) ? entry.groups : [])]
      const match = candidates.find(g => g.groupId === groupId && Array.isArray(g.partitions))
      if (match === undefined) continue
      const both = intersect(topic.partitions ?? [], match.partitions)
      if (both.length > 0) {
        warnings.push({ groupId, topic: topic.name, partitions: both, clientIds: [row.clientId], message: `client "${row.clientId}" already consumes partitions ${both.join(', ')} of topic "${topic.name}" in group "${groupId}": both receive their records` })
        break
      }
    }
  }
  return warnings
}

function intersect (a: readonly number[], b: readonly number[]): number[] {
  const set = new Set(b)
  return a.filter(p => set.has(p))
}
