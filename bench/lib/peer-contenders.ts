/**
 * The peers as contenders of the produce rows (./contenders.ts): @platformatic/kafka sending directly,
 * the Strimzi bridge's `POST /topics/{topic}` and kafka-hooks' produce route, each to a topic of its own,
 * or `not run: <why>` when the peer is not installed here (./peers.ts).
 */
import { createTopic, platformaticClient, withKafkaHooks, type Bench } from '../rows/context.js'
import type { ProduceContender } from './contenders.js'
import { hooksName, platformaticName, strimziName } from './peers.js'
import { hooksProduceRun, strimziProduceRun } from './produce-runs.js'
import { VALUE } from './run-settings.js'
import { CONNECTIONS, MESSAGE_BYTES } from './settings.js'

/** @platformatic/kafka `send` of `batch` records, CONNECTIONS sends in flight, acks -1 (Node 22 child). */
export async function platformaticContender (b: Bench, topicName: string, batch: number): Promise<ProduceContender> {
  const p = b.peers.platformaticKafka
  const name = `${platformaticName(b.peers)} ${batch === 1 ? 'send' : `send ×${batch}`}`
  if (!p.available) return { key: 'platformaticKafka', name, notRun: p.reason }
  const topic = await createTopic(b, topicName)
  return {
    key: 'platformaticKafka',
    name,
    run: async (seconds) => {
      const client = await platformaticClient(b)
      if (client === undefined) throw new Error('@platformatic/kafka child not available')
      return await client.run({ brokers: b.brokerList, topic, seconds, inFlight: CONNECTIONS, batch, valueBytes: MESSAGE_BYTES })
    }
  }
}

/** The Strimzi bridge's produce API, `batch` records per request, CONNECTIONS connections. */
export async function strimziContender (b: Bench, topicName: string, batch: number): Promise<ProduceContender> {
  const name = `${strimziName(b.peers)}${batch === 1 ? '' : ` ×${batch}`}`
  const url = b.bridge?.url
  if (url === undefined) return { key: 'strimziBridge', name, notRun: b.bridgeReason }
  const topic = await createTopic(b, topicName)
  return {
    key: 'strimziBridge',
    name,
    run: async (seconds) => await strimziProduceRun({ url, topic, seconds, connections: CONNECTIONS, value: VALUE, messagesPerRequest: batch })
  }
}

export interface HooksProduce { contender: ProduceContender, topic: string | undefined }

/** kafka-hooks' produce route (one record per request); its process must be up (`withHooksForProduce`). */
export async function hooksContender (b: Bench, topicName: string): Promise<HooksProduce> {
  const h = b.peers.kafkaHooks
  const name = `${hooksName(b.peers)} route`
  if (!h.available) return { contender: { key: 'kafkaHooks', name, notRun: h.reason }, topic: undefined }
  const topic = await createTopic(b, topicName)
  return {
    topic,
    contender: {
      key: 'kafkaHooks',
      name,
      note: 'acks 1 (its producer has no setting)',
      run: async (seconds) => {
        const url = b.hooks?.url
        if (url === undefined) throw new Error('kafka-hooks is not running')
        return await hooksProduceRun({ url, topic, seconds, connections: CONNECTIONS, value: VALUE })
      }
    }
  }
}

/**
 * Runs `fn` with kafka-hooks up for its produce route when it takes part: `topic` listed as a topic
 * to produce to, and an idle topic to deliver (its config needs one).
 */
export async function withHooksForProduce<T> (b: Bench, hp: HooksProduce, fn: () => Promise<T>): Promise<T> {
  if (hp.topic === undefined) return await fn()
  const idle = await createTopic(b, `${hp.topic}-idle`, 1)
  b.log(`# starting kafka-hooks for its produce route (topic ${hp.topic})`)
  return await withKafkaHooks(b, {
    deliver: [{ topic: idle, url: b.receiver.url }],
    produceOnly: [hp.topic],
    groupId: `bench-hooks-produce-${b.suffix}`,
    fallbackMode: 'latest',
    concurrency: 1
  }, fn)
}
