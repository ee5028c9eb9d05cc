/**
 * POST /topics without HTTP: the name checked against Kafka's rules, the replication factor against the
 * brokers there are, then CreateTopics; what the broker refuses comes back as a 400 naming the field.
 */
import type { Admin } from 'kafkajs'
import { AppError, fieldError } from '../errors.js'
import { assertTopicName } from '../kafka/topics.js'
import { kafkaErrorType } from '../kafka/error-mapping.js'
import { kafkaMessage, mapTopicError } from './errors.js'
import { createTopicsAndWait } from '../kafka/create-topics.js'

export interface CreateTopicInput {
  name: string
  /** Absent: the broker's num.partitions. */
  partitions?: number
  /** Absent: the broker's default.replication.factor. */
  replicationFactor?: number
  /** Topic configs (`retention.ms`...), name → value. */
  configs?: Record<string, string>
}

/** How long the controller may take to create the topic and elect its leaders. */
const CREATE_TIMEOUT_MS = 10_000

/** The broker's CreateTopics errors that say which field of the request is wrong. */
const FIELD_OF: Record<string, string> = {
  INVALID_PARTITIONS: 'body/partitions',
  INVALID_REPLICATION_FACTOR: 'body/replicationFactor',
  INVALID_TOPIC_EXCEPTION: 'body/name',
  POLICY_VIOLATION: 'body'
}

type ConfigEntry = { name: string, value: string }

const entriesOf = (input: CreateTopicInput): ConfigEntry[] =>
  Object.entries(input.configs ?? {}).map(([name, value]) => ({ name, value }))

function createRequest (input: CreateTopicInput, configEntries: ConfigEntry[]): Parameters<Admin['createTopics']>[0]['topics'][number] {
  return {
    topic: input.name,
    ...(input.partitions !== undefined ? { numPartitions: input.partitions } : {}),
    ...(input.replicationFactor !== undefined ? { replicationFactor: input.replicationFactor } : {}),
    configEntries
  }
}

/**
 * The config the broker refused. The broker's own text (CreateTopics error_message) does not survive
 * kafkajs, so each entry is tried alone (validateOnly: nothing is created) to find the one at fault.
 */
async function refusedConfig (admin: Admin, input: CreateTopicInput): Promise<ConfigEntry | undefined> {
  const entries = entriesOf(input)
  if (entries.length <= 1) return entries[0]
  for (const entry of entries) {
    try {
      await admin.createTopics({ topics: [createRequest(input, [entry])], validateOnly: true, waitForLeaders: false, timeout: CREATE_TIMEOUT_MS })
    } catch (err) {
      if (kafkaErrorType(err) === 'INVALID_CONFIG') return entry
    }
  }
  return undefined
}

async function createError (admin: Admin, input: CreateTopicInput, err: unknown): Promise<AppError> {
  const type = kafkaErrorType(err)
  if (type === 'INVALID_CONFIG') {
    const entry = await refusedConfig(admin, input)
    const field = entry === undefined ? 'body/configs' : `body/configs/${entry.name}`
    const what = entry === undefined ? 'a topic config' : `topic config ${entry.name}=${JSON.stringify(entry.value)}`
    return fieldError(field, 'topicConfig', `Kafka refused ${what}: ${kafkaMessage(err, type)} (INVALID_CONFIG)`)
  }
  const field = type === undefined ? undefined : FIELD_OF[type]
  if (type !== undefined && field !== undefined) return fieldError(field, 'kafkaRule', `Kafka refused the topic: ${kafkaMessage(err, type)} (${type})`)
  return mapTopicError(err, `creating topic "${input.name}"`)
}

/** Creates the topic; 409 when it exists. */
export async function createTopic (admin: Admin, input: CreateTopicInput): Promise<void> {
  assertTopicName('body/name', input.name)
  let created: boolean
  try {
    const brokers = (await admin.describeCluster()).brokers.length
    if (input.replicationFactor !== undefined && input.replicationFactor > brokers) {
      throw fieldError('body/replicationFactor', 'brokerCount',
        `replication factor ${input.replicationFactor} is more than the ${brokers} broker${brokers === 1 ? '' : 's'} of the cluster (each replica needs its own broker)`)
    }
    created = await createTopicsAndWait(admin, { topics: [createRequest(input, entriesOf(input))], timeout: CREATE_TIMEOUT_MS })
  } catch (err) {
    throw err instanceof AppError ? err : await createError(admin, input, err)
  }
  if (!created) {
    throw new AppError(409, 'GW_CONFLICT', `topic "${input.name}" already exists`,
      { details: [{ field: 'body/name', rule: 'topicExists', message: `topic "${input.name}" already exists` }] })
  }
}
