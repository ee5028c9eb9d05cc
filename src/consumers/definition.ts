/**
 * A consumer-group definition as stored: normalised (defaults applied, lists sorted, so equal definitions
 * hash equally), its content hash, and which instances it runs on. Its request schema, checks and public
 * view live beside it (definition-schema.ts, definition-checks.ts, definition-view.ts); the routes take
 * those from here.
 */
import { createHash } from 'node:crypto'
import type { WebhookConfig } from '../webhooks/types.js'
import { canonicalJson } from '../util/canonical-json.js'
import { CONSUMER_DEFAULTS, DEFAULT_CONCURRENCY, type GroupDefinitionInput } from './definition-schema.js'

export { CLIENT_ID_PATTERN, DefinitionsBodySchema, GROUP_ID_PATTERN, type GroupDefinitionInput } from './definition-schema.js'
export { preValidationError } from './definition-checks.js'
export { DefinitionViewSchema } from './definition-view.js'

export interface TopicDeclaration {
  name: string
  partitions?: number[]
}

export interface ConsumerTuning {
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
  rebalanceTimeoutMs: number
  maxWaitTimeMs: number
}

/** A definition as stored: defaults applied, lists sorted and de-duplicated. */
export interface GroupDefinition {
  isPartitionAssign: boolean
  fromBeginning: boolean
  topics: TopicDeclaration[]
  webhook: WebhookConfig
  clientIds?: string[]
  concurrency: number
  consumer: ConsumerTuning
}

const sortedUnique = <T extends string | number>(list: readonly T[]): T[] =>
  [...new Set(list)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))

export function normalizeDefinition (input: GroupDefinitionInput): GroupDefinition {
  const w = input.webhook
  const webhook: WebhookConfig = { url: w.url }
  if (w.headers !== undefined && Object.keys(w.headers).length > 0) webhook.headers = { ...w.headers }
  if (w.secrets !== undefined) webhook.secrets = [...w.secrets]
  if (w.timeoutMs !== undefined) webhook.timeoutMs = w.timeoutMs
  if (w.maxAttempts !== undefined) webhook.maxAttempts = w.maxAttempts
  if (w.maxRetryDurationMs !== undefined) webhook.maxRetryDurationMs = w.maxRetryDurationMs
  if (w.nonRetryableStatuses !== undefined) webhook.nonRetryableStatuses = sortedUnique(w.nonRetryableStatuses)
  if (w.deadLetterTopic !== undefined) webhook.deadLetterTopic = w.deadLetterTopic
  // 1 is the default: not stored, so it hashes like a definition that never named it
  if (w.batchSize !== undefined && w.batchSize > 1) webhook.batchSize = w.batchSize
  if (w.maxBatchWaitMs !== undefined && w.maxBatchWaitMs > 0) webhook.maxBatchWaitMs = w.maxBatchWaitMs
  const def: GroupDefinition = {
    isPartitionAssign: input.isPartitionAssign,
    fromBeginning: input.fromBeginning ?? false,
    topics: [...input.topics]
      .map(t => (t.partitions === undefined ? { name: t.name } : { name: t.name, partitions: sortedUnique(t.partitions) }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    webhook,
    concurrency: input.concurrency ?? DEFAULT_CONCURRENCY,
    consumer: { ...CONSUMER_DEFAULTS, ...input.consumer }
  }
  if (input.clientIds !== undefined) def.clientIds = sortedUnique(input.clientIds)
  return def
}

/**
 * Content hash of a normalized definition (secrets included, so rotating one is a change). The salt is
 * random per declaration and kept in Redis only: the hash shown by GET cannot be used to test guesses of
 * a secret or header value against the rest of the definition, which GET shows.
 */
export function definitionHash (def: GroupDefinition, salt = ''): string {
  // no salt: the hash of declarations stored before salts existed, so their identical re-POSTs stay unchanged
  const h = createHash('sha256')
  if (salt !== '') h.update(salt).update('\n')
  return h.update(canonicalJson(def)).digest('hex').slice(0, 16)
}

/** Whether a definition runs on `clientId`. */
export function appliesTo (def: Pick<GroupDefinition, 'clientIds'>, clientId: string): boolean {
  return def.clientIds === undefined || def.clientIds.includes(clientId)
}

/** Whether two declarations could run on one instance (absent clientIds = every instance). */
export function scopesOverlap (a: Pick<GroupDefinition, 'clientIds'>, b: Pick<GroupDefinition, 'clientIds'>): boolean {
  if (a.clientIds === undefined || b.clientIds === undefined) return true
  const set = new Set(a.clientIds)
  return b.clientIds.some(c => set.has(c))
}

/** Partitions per topic a partition-assigned definition declares. */
export function declaredPartitions (def: GroupDefinition): Record<string, number[]> {
  return Object.fromEntries(def.topics.map(t => [t.name, t.partitions ?? []]))
}
