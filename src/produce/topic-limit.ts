/** A topic's max.message.bytes, read with the admin and cached a minute: the records' size limit. */
import kafkajs from 'kafkajs'
import type { ProduceState } from './state.js'

const { ConfigResourceTypes } = kafkajs

/** Kafka's default max.message.bytes (message.max.bytes), used when a topic's cannot be read. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588
const LIMIT_TTL_MS = 60_000
/** Above this many cached topics, expired entries are dropped. */
const MAX_CACHED_LIMITS = 10_000

/** The topic's max.message.bytes (cached a minute); Kafka's default when it cannot be read. */
export function partitionLimit (state: ProduceState, topic: string): Promise<number> {
  const { limits } = state
  const hit = limits.get(topic)
  if (hit !== undefined && Date.now() - hit.at < LIMIT_TTL_MS) return hit.value
  const value = readLimit(state, topic)
  limits.set(topic, { at: Date.now(), value })
  if (limits.size > MAX_CACHED_LIMITS) {
    for (const [t, e] of limits) if (Date.now() - e.at >= LIMIT_TTL_MS) limits.delete(t)
  }
  return value
}

async function readLimit (state: ProduceState, topic: string): Promise<number> {
  try {
    const admin = await state.kafka.connectedAdmin()
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }]
    })
    const entry = resources[0]?.configEntries.find(e => e.configName === 'max.message.bytes')
    const n = Number(entry?.configValue)
    return Number.isInteger(n) && n > 0 ? n : DEFAULT_MAX_MESSAGE_BYTES
  } catch (err) {
    state.log.warn({ err, topic }, 'cannot read the topic\'s max.message.bytes; assuming Kafka\'s default')
    state.limits.delete(topic)
    return DEFAULT_MAX_MESSAGE_BYTES
  }
}
