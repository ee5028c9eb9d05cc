/**
 * A produce's topic: its partitions (404 when it does not exist, or created first when
 * AUTO_CREATE_TOPICS=true), and a send that failed because the topic went away since.
 */
import { AppError, kafkaUnavailable } from '../errors.js'
import { isStaleMetadataError } from '../kafka/stale-metadata.js'
import { mapKafkaError } from '../kafka/error-mapping.js'
import { topicNotFound } from '../kafka/topics.js'
import { sleep } from '../util/async.js'
import type { ProduceState } from './state.js'
import { createTopicsAndWait } from '../kafka/create-topics.js'

/** How often, 100 ms apart, a created topic's metadata is looked for before the produce answers 503. */
const CREATED_METADATA_TRIES = 20

/** The topic's partition ids; failures are the gateway's errors. */
export async function partitionsOf (state: ProduceState, topic: string): Promise<number[]> {
  try {
    const ids = await state.topics.partitions(topic)
    if (ids !== undefined && ids.length > 0) return ids
    if (!state.config.autoCreateTopics) throw topicNotFound(topic)
    let pending = state.creating.get(topic)
    if (pending === undefined) {
      pending = createTopic(state, topic).finally(() => state.creating.delete(topic))
      state.creating.set(topic, pending)
    }
    return await pending
  } catch (err) {
    throw mapKafkaError(err, { topics: [topic] })
  }
}

async function createTopic (state: ProduceState, topic: string): Promise<number[]> {
  const admin = await state.kafka.connectedAdmin()
  // no partition count or replication factor: the broker's num.partitions / default.replication.factor apply
  const created = await createTopicsAndWait(admin, { topics: [{ topic }] })
  state.log.info({ topic, created }, created ? 'created topic on first produce (AUTO_CREATE_TOPICS=true)' : 'topic appeared while creating it')
  for (let attempt = 0; attempt < CREATED_METADATA_TRIES; attempt++) {
    state.topics.invalidate(topic)
    const ids = await state.topics.partitions(topic)
    if (ids !== undefined && ids.length > 0) return ids
    await sleep(100)
  }
  throw kafkaUnavailable(`topic "${topic}" was created but its metadata is not visible yet; retry`)
}

/**
 * A batch that failed on stale topic metadata (the topic deleted since the cache saw it, say): the
 * cache is refreshed, and a topic that is gone answers as any unknown topic does (404).
 */
export async function explainSendFailure (state: ProduceState, err: unknown, topic: string): Promise<unknown> {
  if (!isStaleMetadataError(err)) return err
  state.topics.invalidate(topic)
  let ids: number[] | undefined
  try {
    ids = await state.topics.partitions(topic)
  } catch {
    return err
  }
  if (ids !== undefined) return err
  return new AppError(404, 'GW_TOPIC_NOT_FOUND', `topic "${topic}" does not exist: it was deleted before the records were written`,
    { cause: err, details: [{ field: 'body/topic', rule: 'topicExists', message: `topic "${topic}" does not exist` }] })
}
