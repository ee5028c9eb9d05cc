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
}

/** How a facade's sends run: on `from`, or on the generation that replaced it. */
export type SendVia = <T>(from: Generation, topics: string[], op: (producer: Producer) => Promise<T>) => Promise<T>

export function newGeneration (kafka: Kafka, metadataMaxAgeMs: number | undefined, id: number, send: SendVia): Generation {
  const raw = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
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
    facade: {
      ...raw,
      send: record => send(gen, [record.topic], p => p.send(record)),
      sendBatch: batch => send(gen, (batch.topicMessages ?? []).map(m => m.topic), p => p.sendBatch(batch))
    }
  }
  return gen
}
