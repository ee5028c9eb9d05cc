/**
 * The checks of a definition a schema cannot express: misspellings and group ids before the schema (so
 * their messages are specific), then the shape rules, then what needs Kafka metadata (topics and
 * partitions that exist).
 */
import { AppError, type ErrorDetail, validationError } from '../errors.js'
import { topicNameProblem, type TopicMetadataCache } from '../kafka/topics.js'
import { headerProblem, headersProblem, webhookUrlProblem } from '../webhooks/url-policy.js'
import { secretProblem } from '../webhooks/signing.js'
import { CONSUMER_DEFAULTS, GROUP_ID_PATTERN, type GroupDefinitionInput } from './definition-schema.js'

const GROUP_ID = new RegExp(GROUP_ID_PATTERN)

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
    topicProblems(shape, at, def)
    webhookProblems(shape, at, def, deps)
    tuningProblems(shape, at, def)
  }
  const firstShape = shape[0]
  if (firstShape !== undefined) throw validationError(`${firstShape.field ?? 'body'}: ${firstShape.message}`, shape)
  await checkTopicsExist(defs, deps.topics)
}

function topicProblems (shape: ErrorDetail[], at: string, def: GroupDefinitionInput): void {
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
}

function webhookProblems (shape: ErrorDetail[], at: string, def: GroupDefinitionInput, deps: CheckDeps): void {
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
  if (w.maxBatchWaitMs !== undefined && w.maxBatchWaitMs > 0 && (w.batchSize ?? 1) <= 1) {
    shape.push({ field: `${at}/webhook/maxBatchWaitMs`, rule: 'batchSize', message: 'only applies with webhook.batchSize above 1' })
  }
  if (typeof w.deadLetterTopic === 'string') {
    const problem = topicNameProblem(w.deadLetterTopic)
    if (problem !== undefined) shape.push({ field: `${at}/webhook/deadLetterTopic`, rule: 'topicName', message: `topic name ${problem}` })
    if (def.topics.some(t => t.name === w.deadLetterTopic)) {
      shape.push({ field: `${at}/webhook/deadLetterTopic`, rule: 'deadLetterTopic', message: 'must not be one of the topics the group consumes' })
    }
  }
}

function tuningProblems (shape: ErrorDetail[], at: string, def: GroupDefinitionInput): void {
  const c = { ...CONSUMER_DEFAULTS, ...def.consumer }
  if (c.heartbeatIntervalMs >= c.sessionTimeoutMs) {
    shape.push({ field: `${at}/consumer/heartbeatIntervalMs`, rule: 'heartbeatInterval', message: `must be below sessionTimeoutMs (${c.sessionTimeoutMs})` })
  }
}

/** 404 for topics that do not exist (all of them named), then 400 for declared partitions that do not. */
async function checkTopicsExist (defs: Record<string, GroupDefinitionInput>, topics: TopicMetadataCache): Promise<void> {
  const missing: ErrorDetail[] = []
  const outOfRange: ErrorDetail[] = []
  for (const [groupId, def] of Object.entries(defs)) {
    for (const [i, topic] of def.topics.entries()) {
      const existing = await topics.partitions(topic.name)
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
