/**
 * Consumer-group definitions (seed 000, "Create Consumer", with a webhook added): the request schema,
 * the checks that need Kafka metadata, normalisation (defaults applied, lists sorted, so equal
 * definitions hash equally) and the public view (webhook secrets and header values never leave).
 */
import { createHash } from 'node:crypto'
import { Type, type Static } from 'typebox'
import { AppError, type ErrorDetail, validationError } from '../errors.js'
import { topicNameProblem, type TopicMetadataCache } from '../kafka/topics.js'
import { headerProblem, headersProblem, webhookUrlProblem } from '../webhooks/url-policy.js'
import { secretProblem } from '../webhooks/signing.js'
import type { WebhookConfig } from '../webhooks/types.js'
import { canonicalJson } from '../util/canonical-json.js'

export const GROUP_ID_PATTERN = '^[A-Za-z0-9._-]{1,249}$'
const GROUP_ID = new RegExp(GROUP_ID_PATTERN)
export const CLIENT_ID_PATTERN = '^[A-Za-z0-9._:-]{1,255}$'

export const DEFAULT_CONCURRENCY = 6
export const CONSUMER_DEFAULTS = Object.freeze({
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3000,
  rebalanceTimeoutMs: 60_000,
  maxWaitTimeMs: 500
})

const TopicSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 249, description: 'Topic to consume; it must exist' }),
  partitions: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 2147483647 }), {
    minItems: 1,
    maxItems: 10000,
    description: 'Partitions this group consumes on the topic: required when `isPartitionAssign` is true (each must exist), not allowed otherwise'
  }))
}, { additionalProperties: false, description: 'One topic of the group' })

const WebhookSchema = Type.Object({
  url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL every record is POSTed to (host subject to WEBHOOK_ALLOWED_HOSTS; never an address in WEBHOOK_BLOCKED_ADDRESSES, cloud metadata and link-local by default)' }),
  headers: Type.Optional(Type.Record(Type.String(), Type.String(), {
    description: 'Extra request headers, e.g. Authorization. Values are secret: responses list the names only'
  })),
  secrets: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), {
    minItems: 1,
    maxItems: 5,
    description: 'Standard Webhooks signing secrets (`whsec_<base64>`); several sign at once, for rotation. Never returned: responses give their count'
  })),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 300_000, description: 'Per-attempt timeout in ms (default WEBHOOK_TIMEOUT_MS)' })),
  maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Attempts per record before it is dead-lettered (default 10)' })),
  maxRetryDurationMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 86_400_000, description: 'Retry budget per record in ms before it is dead-lettered (default 1 h)' })),
  nonRetryableStatuses: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), {
    maxItems: 100,
    description: 'Statuses dead-lettered at once (default 400, 401, 403, 404, 410, 422)'
  })),
  deadLetterTopic: Type.Optional(Type.Union([
    Type.String({ minLength: 1, maxLength: 249 }),
    Type.Literal(false)
  ], { description: 'Dead-letter topic (default `<groupId>.dlq`); `false` turns dead-lettering off, so a failing record blocks its partition' })),
  batchSize: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 1000,
    description: 'Records per request (default 1: the envelope is the body). Above 1 the body is `{ "records": [envelope, ...] }`: up to this many consecutive records of one partition, from what was already fetched (no waiting). Retries, dead-lettering (of every record in it) and the commit apply to the whole request'
  }))
}, { additionalProperties: false, description: 'Where and how records are delivered' })

const ConsumerTuningSchema = Type.Object({
  sessionTimeoutMs: Type.Optional(Type.Integer({ minimum: 6000, maximum: 1_800_000, description: 'Kafka session timeout in ms (default 30000; the broker allows 6000-1800000 by default): how soon a dead member loses its partitions' })),
  heartbeatIntervalMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000, description: 'Kafka heartbeat interval in ms (default 3000); must be below the session timeout' })),
  rebalanceTimeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 1_800_000, description: 'How long the group waits for members to rejoin during a rebalance, in ms (default 60000)' })),
  maxWaitTimeMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 30_000, description: 'Longest a fetch waits for new records, in ms (default 500)' }))
}, { additionalProperties: false, description: 'Kafka consumer tuning (optional)' })

export const GroupDefinitionSchema = Type.Object({
  isPartitionAssign: Type.Boolean({ description: '`false`: a round-robin group (partitions spread across the instances running it). `true`: every instance consumes exactly the partitions declared in `topics[].partitions` (protocol `custom-assigner`)' }),
  fromBeginning: Type.Optional(Type.Boolean({ description: 'Start from the earliest offset when the group has no committed offset (default false: only new records)' })),
  topics: Type.Array(TopicSchema, { minItems: 1, maxItems: 100, description: 'Topics the group consumes' }),
  webhook: WebhookSchema,
  clientIds: Type.Optional(Type.Array(Type.String({ pattern: CLIENT_ID_PATTERN }), {
    minItems: 1,
    maxItems: 1000,
    description: 'Gateway instances (KAFKA_CLIENT_ID) that run this group; absent: every instance sharing the registry. A partition-assigned group may be declared several times for disjoint sets of instances, each with its own partitions'
  })),
  concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 256, description: `Partitions delivered in parallel per instance; records of one partition are always delivered in order (default ${DEFAULT_CONCURRENCY})` })),
  consumer: Type.Optional(ConsumerTuningSchema)
}, { additionalProperties: false, description: 'One consumer group: seed 000\'s definition plus a webhook' })

export const DefinitionsBodySchema = Type.Record(Type.String(), GroupDefinitionSchema, {
  minProperties: 1,
  maxProperties: 100,
  propertyNames: { pattern: GROUP_ID_PATTERN },
  description: 'Consumer groups keyed by group id (1-249 characters of A-Z a-z 0-9 . _ -)'
})

export type GroupDefinitionInput = Static<typeof GroupDefinitionSchema>

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

/**
 * Checks made before schema validation, so their messages are specific: the `isAssignPartition` spelling
 * (syrup-kafka's code reads it, its README documents `isPartitionAssign`) and group ids (Ajv would only
 * say "property name must be valid").
 */
export function preValidationError (body: unknown): AppError | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined
  const details: ErrorDetail[] = []
  for (const [groupId, def] of Object.entries(body as Record<string, unknown>)) {
    if (!GROUP_ID.test(groupId)) {
      details.push({ field: `body/${groupId}`, rule: 'groupId', message: `group id "${groupId.slice(0, 64)}" must be 1-249 characters of A-Z a-z 0-9 . _ -` })
    }
    if (def !== null && typeof def === 'object' && Object.hasOwn(def, 'isAssignPartition')) {
      details.push({
        field: `body/${groupId}/isAssignPartition`,
        rule: 'misspelled',
        message: 'unknown property "isAssignPartition": did you mean "isPartitionAssign"? (syrup-kafka\'s README spells the flag "isPartitionAssign"; the gateway accepts only that spelling)'
      })
    }
  }
  const first = details[0]
  return first === undefined ? undefined : validationError(`${first.field ?? 'body'}: ${first.message}`, details)
}

export interface CheckDeps {
  topics: TopicMetadataCache
  allowedHosts: readonly string[]
  /** WEBHOOK_BLOCKED_ADDRESSES; default none. */
  blockedAddresses?: readonly string[]
}

/**
 * The checks a schema cannot express. Problems are collected across every group: 400 for the shape
 * (partitions required/forbidden, webhook URL, headers, secrets, timeouts), then 404 for topics that do not
 * exist, then 400 GW_PARTITION_OUT_OF_RANGE for partitions that do not exist.
 */
export async function checkDefinitions (defs: Record<string, GroupDefinitionInput>, deps: CheckDeps): Promise<void> {
  const shape: ErrorDetail[] = []
  for (const [groupId, def] of Object.entries(defs)) {
    const at = `body/${groupId}`
    if (!GROUP_ID.test(groupId)) shape.push({ field: at, rule: 'groupId', message: 'group id must be 1-249 characters of A-Z a-z 0-9 . _ -' })
    const seen = new Set<string>()
    def.topics.forEach((topic, i) => {
      const tAt = `${at}/topics/${i}`
      const nameProblem = topicNameProblem(topic.name)
      if (nameProblem !== undefined) shape.push({ field: `${tAt}/name`, rule: 'topicName', message: `topic name ${nameProblem}` })
      if (seen.has(topic.name)) shape.push({ field: `${tAt}/name`, rule: 'unique', message: `topic "${topic.name}" is listed twice` })
      seen.add(topic.name)
      if (def.isPartitionAssign && topic.partitions === undefined) {
        shape.push({ field: `${tAt}/partitions`, rule: 'required', message: 'is required when isPartitionAssign is true (the partitions this group consumes)' })
      }
      if (!def.isPartitionAssign && topic.partitions !== undefined) {
        shape.push({ field: `${tAt}/partitions`, rule: 'partitionAssign', message: 'partitions apply only when isPartitionAssign is true; a round-robin group spreads all partitions across its instances' })
      }
    })
    const w = def.webhook
    const urlProblem = webhookUrlProblem(w.url, deps.allowedHosts, deps.blockedAddresses)
    if (urlProblem !== undefined) shape.push({ field: `${at}/webhook/url`, rule: 'webhookUrl', message: urlProblem })
    if (w.headers !== undefined) {
      const perHeader = Object.entries(w.headers).flatMap(([name, value]) => {
        const problem = headerProblem(name, value)
        return problem === undefined ? [] : [{ field: `${at}/webhook/headers/${name}`, rule: 'header', message: problem }]
      })
      shape.push(...perHeader)
      const problem = perHeader.length === 0 ? headersProblem(w.headers) : undefined
      if (problem !== undefined) shape.push({ field: `${at}/webhook/headers`, rule: 'header', message: problem })
    }
    w.secrets?.forEach((secret, i) => {
      const problem = secretProblem(secret)
      if (problem !== undefined) shape.push({ field: `${at}/webhook/secrets/${i}`, rule: 'secret', message: `secret ${problem}` })
    })
    if (typeof w.deadLetterTopic === 'string') {
      const problem = topicNameProblem(w.deadLetterTopic)
      if (problem !== undefined) shape.push({ field: `${at}/webhook/deadLetterTopic`, rule: 'topicName', message: `topic name ${problem}` })
      if (def.topics.some(t => t.name === w.deadLetterTopic)) {
        shape.push({ field: `${at}/webhook/deadLetterTopic`, rule: 'deadLetterTopic', message: 'must not be one of the topics the group consumes' })
      }
    }
    const c = { ...CONSUMER_DEFAULTS, ...def.consumer }
    if (c.heartbeatIntervalMs >= c.sessionTimeoutMs) {
      shape.push({ field: `${at}/consumer/heartbeatIntervalMs`, rule: 'heartbeatInterval', message: `must be below sessionTimeoutMs (${c.sessionTimeoutMs})` })
    }
  }
  const firstShape = shape[0]
  if (firstShape !== undefined) throw validationError(`${firstShape.field ?? 'body'}: ${firstShape.message}`, shape)

  const missing: ErrorDetail[] = []
  const outOfRange: ErrorDetail[] = []
  for (const [groupId, def] of Object.entries(defs)) {
    for (const [i, topic] of def.topics.entries()) {
      const existing = await deps.topics.partitions(topic.name)
      if (existing === undefined) {
        missing.push({ field: `body/${groupId}/topics/${i}/name`, rule: 'topicExists', message: `topic "${topic.name}" does not exist`, topic: topic.name })
        continue
      }
      const bad = (topic.partitions ?? []).filter(p => !existing.includes(p))
      if (bad.length > 0) {
        outOfRange.push({
          field: `body/${groupId}/topics/${i}/partitions`,
          rule: 'partitionExists',
          message: `topic "${topic.name}" has no partition ${bad.join(', ')} (it has ${existing.length}: ${existing.length === 0 ? 'none' : `0-${existing.length - 1}`})`,
          topic: topic.name,
          partitions: bad
        })
      }
    }
  }
  if (missing.length > 0) {
    const names = [...new Set(missing.map(d => String(d.topic)))]
    throw new AppError(404, 'GW_TOPIC_NOT_FOUND', `topic${names.length > 1 ? 's' : ''} ${names.map(n => `"${n}"`).join(', ')} do${names.length > 1 ? '' : 'es'} not exist (create ${names.length > 1 ? 'them' : 'it'} first)`, { details: missing })
  }
  const firstRange = outOfRange[0]
  if (firstRange !== undefined) {
    throw new AppError(400, 'GW_PARTITION_OUT_OF_RANGE', `${firstRange.field ?? 'body'}: ${firstRange.message}`, { details: outOfRange })
  }
}

/** A webhook as responses show it: header names only, the number of secrets. */
export type WebhookView = Omit<WebhookConfig, 'headers' | 'secrets'> & { headers?: string[], secrets?: number }

export type DefinitionView = Omit<GroupDefinition, 'webhook'> & { webhook: WebhookView }

export function definitionView (def: GroupDefinition): DefinitionView {
  const { headers, secrets, ...rest } = def.webhook
  const webhook: WebhookView = { ...rest }
  if (headers !== undefined) webhook.headers = Object.keys(headers).sort()
  if (secrets !== undefined) webhook.secrets = secrets.length
  return { ...def, webhook }
}

export const WebhookViewSchema = Type.Object({
  url: Type.String({ description: 'Webhook URL' }),
  headers: Type.Optional(Type.Array(Type.String(), { description: 'Names of the custom headers (values are never returned)' })),
  secrets: Type.Optional(Type.Integer({ description: 'How many signing secrets are configured (secrets are never returned)' })),
  timeoutMs: Type.Optional(Type.Integer({ description: 'Per-attempt timeout in ms' })),
  maxAttempts: Type.Optional(Type.Integer({ description: 'Attempts before dead-lettering' })),
  maxRetryDurationMs: Type.Optional(Type.Integer({ description: 'Retry budget per record in ms' })),
  nonRetryableStatuses: Type.Optional(Type.Array(Type.Integer(), { description: 'Statuses dead-lettered at once' })),
  deadLetterTopic: Type.Optional(Type.Union([Type.String(), Type.Literal(false)], { description: 'Dead-letter topic, or false' })),
  batchSize: Type.Optional(Type.Integer({ description: 'Records per request, when above 1' }))
}, { additionalProperties: false, description: 'The webhook, without secrets or header values' })

export const DefinitionViewSchema = Type.Object({
  isPartitionAssign: Type.Boolean({ description: 'Partition-assigned (`custom-assigner`) rather than round-robin' }),
  fromBeginning: Type.Boolean({ description: 'Start from the earliest offset when the group has no committed offset' }),
  topics: Type.Array(Type.Object({
    name: Type.String({ description: 'Topic' }),
    partitions: Type.Optional(Type.Array(Type.Integer(), { description: 'Declared partitions (partition-assigned groups)' }))
  }, { additionalProperties: false }), { description: 'Topics the group consumes' }),
  webhook: WebhookViewSchema,
  clientIds: Type.Optional(Type.Array(Type.String(), { description: 'Instances that run this declaration; absent: all' })),
  concurrency: Type.Integer({ description: 'Partitions delivered in parallel per instance' }),
  consumer: Type.Object({
    sessionTimeoutMs: Type.Integer({ description: 'Kafka session timeout in ms' }),
    heartbeatIntervalMs: Type.Integer({ description: 'Kafka heartbeat interval in ms' }),
    rebalanceTimeoutMs: Type.Integer({ description: 'Kafka rebalance timeout in ms' }),
    maxWaitTimeMs: Type.Integer({ description: 'Longest fetch wait in ms' })
  }, { additionalProperties: false, description: 'Kafka consumer tuning' })
}, { additionalProperties: false, description: 'A stored definition (defaults applied), without secrets' })
