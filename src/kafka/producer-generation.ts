/** One kafkajs producer of the core and what the core knows of it; replaceable-producer.ts replaces it. */
import { Partitioners, type Kafka, type Producer } from 'kafkajs'
import { connector, type Connector } from './connector.js'

export interface Generation {
  readonly id: number
  readonly raw: Producer
  /** What callers get: `raw` with send/sendBatch going through the replaceable producer. */
  readonly facade: Producer
  readonly conn: Connector
  /**
   * Every topic a send named. kafkajs keeps each one it could add among the producer's target topics for
   * good, so this is a superset of them.
   */
  readonly topics: Set<string>
  readonly inFlight: Set<Promise<unknown>>
  /** The look-up for deleted target topics under way (one at a time). */
  checking: Promise<string[]> | undefined
  /** Replaced: sends through `facade` go to the current generation. */
  retired: boolean
  /** Idempotent producers: the send before the next one may start (idempotent-sends.ts). */
  tail: Promise<void>
  /** Idempotent producers: a send failed and the replacement could not be made yet; no send may use this producer id. */
  poisoned: boolean
}

/** How a facade's sends run: on `from`, or on the generation that replaced it. */
export type SendVia = <T>(from: Generation, topics: string[], op: (producer: Producer) => Promise<T>) => Promise<T>

export interface GenerationSettings {
  readonly requestKafka: Kafka
  readonly metadataMaxAgeMs: number | undefined
  readonly idempotent: boolean
}

/** kafkajs's own producer default (5 retries over the client's backoff), kept for idempotent producers, whose default is unbounded. */
const PRODUCER_RETRIES = 5

export function newGeneration ({ requestKafka, metadataMaxAgeMs, idempotent }: GenerationSettings, id: number, send: SendVia): Generation {
  const raw = requestKafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    ...(idempotent ? { idempotent: true, retry: { retries: PRODUCER_RETRIES } } : {}),
    ...(metadataMaxAgeMs !== undefined ? { metadataMaxAge: metadataMaxAgeMs } : {})
  })
  const conn = connector(() => raw.connect())
  raw.on(raw.events.DISCONNECT, () => conn.reset())
  const gen: Generation = {
    id,
    raw,
    conn,
    topics: new Set(),
    inFlight: new Set(),
    checking: undefined,
    retired: false,
    tail: Promise.resolve(),
    poisoned: false,
    facade: {
      ...raw,
      send: record => send(gen, [record.topic], p => p.send(record)),
      sendBatch: batch => send(gen, (batch.topicMessages ?? []).map(m => m.topic), p => p.sendBatch(batch))
    }
  }
  return gen
}
