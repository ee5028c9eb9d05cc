/** A create request (native or Confluent v2 field names) → the instance's settings, with defaults. */
import { randomBytes } from 'node:crypto'
import { CONSUMER_DEFAULTS } from '../consumers/definition-schema.js'
import { fieldError } from '../errors.js'
import { PULL_DEFAULTS, type OffsetReset, type PullSettings, type PullTuning, type RecordFormat } from './types.js'

export interface CreateInput {
  name?: string
  id?: string
  autoOffsetReset?: OffsetReset
  'auto.offset.reset'?: OffsetReset
  format?: 'json' | 'binary' | 'envelope'
  maxPollRecords?: number
  maxPollBytes?: number
  instanceTimeoutMs?: number
  'consumer.request.timeout.ms'?: number
  'consumer.instance.timeout.ms'?: number
  'auto.commit.enable'?: string | boolean
  consumer?: Partial<PullTuning>
}

export const newInstanceId = (): string => `i-${randomBytes(8).toString('hex')}`

export function settingsOf (input: CreateInput): PullSettings {
  const reset = input.autoOffsetReset ?? input['auto.offset.reset'] ?? PULL_DEFAULTS.autoOffsetReset
  if (input.autoOffsetReset !== undefined && input['auto.offset.reset'] !== undefined && input.autoOffsetReset !== input['auto.offset.reset']) {
    throw fieldError('body/auto.offset.reset', 'consistent', 'differs from autoOffsetReset: give one of them')
  }
  // the gateway commits only on request: Confluent's auto-commit cannot be turned on
  const autoCommit = input['auto.commit.enable']
  if (autoCommit === true || autoCommit === 'true') throw fieldError('body/auto.commit.enable', 'enum', 'auto-commit is not supported: commit with POST …/offsets')
  const tuning = { ...CONSUMER_DEFAULTS, ...input.consumer }
  if (tuning.heartbeatIntervalMs >= tuning.sessionTimeoutMs) throw fieldError('body/consumer/heartbeatIntervalMs', 'belowSessionTimeout', `must be below sessionTimeoutMs (${tuning.sessionTimeoutMs})`)
  return {
    autoOffsetReset: reset,
    maxPollRecords: input.maxPollRecords ?? PULL_DEFAULTS.maxPollRecords,
    maxPollBytes: input.maxPollBytes ?? PULL_DEFAULTS.maxPollBytes,
    instanceTimeoutMs: input.instanceTimeoutMs ?? input['consumer.instance.timeout.ms'] ?? PULL_DEFAULTS.instanceTimeoutMs,
    requestTimeoutMs: input['consumer.request.timeout.ms'] ?? PULL_DEFAULTS.requestTimeoutMs,
    format: (input.format ?? 'envelope') as RecordFormat,
    consumer: { sessionTimeoutMs: tuning.sessionTimeoutMs, heartbeatIntervalMs: tuning.heartbeatIntervalMs, rebalanceTimeoutMs: tuning.rebalanceTimeoutMs, maxWaitTimeMs: tuning.maxWaitTimeMs }
  }
}
