/** The public view of a definition: webhook secrets and header values never leave the gateway. */
import { Type } from 'typebox'
import type { GroupDefinition } from './definition.js'
import type { WebhookConfig } from '../webhooks/types.js'

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
  batchSize: Type.Optional(Type.Integer({ description: 'Records per request, when above 1' })),
  maxBatchWaitMs: Type.Optional(Type.Integer({ description: 'Longest a partial batch waits for more records, in ms, when above 0' }))
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
