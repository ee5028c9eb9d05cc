/**
 * Topic creation that waits for the new partitions' leaders itself. kafkajs' `waitForLeaders` retries
 * only LEADER_NOT_AVAILABLE, but a KRaft broker whose metadata has not caught up with the controller
 * yet answers UNKNOWN_TOPIC_OR_PARTITION for a topic just created, and kafkajs throws that (seen on a
 * loaded 2-core machine, in CI and in the bench): here both mean "not yet".
 */
import type { Admin, ITopicConfig } from 'kafkajs'
import { sleep } from '../util/async.js'

const NOT_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE'])
const POLL_MS = 100
/** How long the leaders may take (at least): a loaded machine needs more than kafkajs' 5 s request timeout. */
const LEADER_WAIT_MS = 30_000

/** Named as kafkajs' own timeout, which the error mapping answers as any Kafka timeout (504). */
class LeaderWaitTimeout extends Error {
  override name = 'KafkaJSTimeout'
}

export interface CreateTopicsOptions { topics: ITopicConfig[], timeout?: number, validateOnly?: boolean }

/** Every partition of every topic has a leader; throws what is not a "not yet". */
async function leadersElected (admin: Admin, names: string[]): Promise<boolean> {
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: names })
    return topics.length === names.length && topics.every(t => t.partitions.length > 0 && t.partitions.every(p => p.leader >= 0))
  } catch (err) {
    if (NOT_YET.has(String((err as { type?: unknown }).type))) return false
    throw err
  }
}

/** admin.createTopics (false: they existed), then waits for their leaders (KafkaJSTimeout after LEADER_WAIT_MS, or `timeout` if longer). */
export async function createTopicsAndWait (admin: Admin, opts: CreateTopicsOptions): Promise<boolean> {
  const created = await admin.createTopics({ ...opts, waitForLeaders: false })
  if (opts.validateOnly === true) return created
  const names = opts.topics.map(t => t.topic)
  const deadline = Date.now() + Math.max(opts.timeout ?? 0, LEADER_WAIT_MS)
  while (!await leadersElected(admin, names)) {
    if (Date.now() > deadline) throw new LeaderWaitTimeout(`Timed out while waiting for topic leaders of ${names.join(', ')}`)
    await sleep(POLL_MS)
  }
  return created
}
