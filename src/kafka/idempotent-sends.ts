/**
 * Sends of an idempotent producer, one at a time, and a fresh producer id after any failed send.
 *
 * kafkajs (2.2.4) numbers each partition's batches under a per-broker lock and, when a produce request
 * fails, rolls the sequence back (producer/sendMessages.js) so the next batch reuses it. If the failed
 * request had in fact been written (a timeout, a connection cut after the broker appended), the broker
 * takes the next batch with that sequence and the same record count for a retry of it and answers with
 * the old offset: a record acknowledged and never written. So after a failed send no further send may
 * use that producer id: sends run in order, and a failure replaces the producer (InitProducerId gives a
 * new id, whose sequences start again) before the next send starts. Retries inside kafkajs, which reuse
 * the same sequence, are what the idempotent producer deduplicates.
 */
import type { Producer } from 'kafkajs'
import type { Generation } from './producer-generation.js'
import { replace, settled, type ReplaceableProducer } from './replaceable-producer.js'

type Deliver = <T>(p: ReplaceableProducer, from: Generation, topics: string[], op: (producer: Producer) => Promise<T>) => Promise<T>

/** Kafka errors that say nothing was appended: no reason to change the producer id. */
const NOT_WRITTEN = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION', 'MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_TOPIC_EXCEPTION',
  'TOPIC_AUTHORIZATION_FAILED', 'CORRUPT_MESSAGE', 'INVALID_RECORD', 'INVALID_REQUIRED_ACKS'
])

function wroteNothing (err: unknown): boolean {
  const type = (err as { type?: unknown }).type
  return typeof type === 'string' && NOT_WRITTEN.has(type)
}

export async function deliverInSequence<T> (p: ReplaceableProducer, from: Generation, topics: string[], op: (producer: Producer) => Promise<T>, deliver: Deliver): Promise<T> {
  let gen = from.retired ? await settled(p) : from
  for (;;) {
    const previous = gen.tail
    let release: () => void = () => {}
    gen.tail = new Promise<void>(resolve => { release = resolve })
    await previous
    try {
      // a poisoned producer is replaced (or the send fails) before anything is sent on it
      if (gen.poisoned && !gen.retired) await replace(p, gen, 'a failed send\'s producer id must not be used again')
      if (gen.retired) {
        gen = await settled(p)
        continue
      }
      try {
        return await deliver(p, gen, topics, op)
      } catch (err) {
        if (!p.closed && !gen.retired && !wroteNothing(err)) {
          gen.poisoned = true
          await replace(p, gen, 'a send failed: its records may have been written, so their sequence numbers must not be reused')
            .catch((replaceErr: unknown) => { p.log.warn({ err: replaceErr }, 'could not replace the idempotent producer yet; the next send tries first') })
        }
        throw err
      }
    } finally {
      release()
    }
  }
}
