/** A consumer group as the routes show it: its declarations (without secrets) and its live status per instance. */
import { definitionView, type DefinitionView } from './definition-view.js'
import type { LiveStatuses } from './live-status.js'
import type { Declaration, GroupRecord } from './store.js'
import type { GroupStatus } from './supervisor/supervisor.js'

export type DeclarationView = DefinitionView & { hash: string, version: number, createdAt: string, updatedAt: string }

export interface GroupView {
  groupId: string
  version: number
  updatedAt: string
  declarations: DeclarationView[]
  /** Live status per gateway instance (clientId) that runs, or was asked to stop, the group. */
  instances: Record<string, GroupStatus>
}

export function declarationView (d: Declaration): DeclarationView {
  return { ...definitionView(d.definition), hash: d.hash, version: d.version, createdAt: d.createdAt, updatedAt: d.updatedAt }
}

export function groupView (record: GroupRecord, statuses: LiveStatuses): GroupView {
  const instances: Record<string, GroupStatus> = {}
  for (const [id, byGroup] of statuses) {
    const status = byGroup[record.groupId]
    if (status !== undefined) instances[id] = status
  }
  return { groupId: record.groupId, version: record.version, updatedAt: record.updatedAt, declarations: record.declarations.map(declarationView), instances }
}
