/**
 * Which partitions a message's records go to: the message's `partitions` (one copy each), the partitions
 * its `arrival` client is registered for, or kafkajs' default partitioner. Each is checked to exist.
 */
import type { PartitionMetadata } from 'kafkajs'
import { partitionOutOfRange } from '../kafka/topics.js'
import { arrivalUnroutable, type ArrivalRoute } from '../registry/arrival.js'
import type { EncodedMessage } from './plan.js'
import type { RequestRecords } from './records.js'
import type { ProduceState } from './state.js'

/** The message's own `partitions`, each checked to exist; `arrival` beside them is ignored with a warning. */
export function explicitTargets (acc: RequestRecords, m: EncodedMessage, partitions: number[]): number[] {
  partitions.forEach((p, j) => {
    if (!acc.idSet.has(p)) throw partitionOutOfRange(`${m.prefix}/partitions/${j}`, acc.topic, p, acc.ids.length)
  })
  if (m.arrival !== undefined) {
    acc.warnings.push({ code: 'ARRIVAL_IGNORED', field: `${m.prefix}/arrival`, message: '`arrival` was ignored because `partitions` is given (partitions win)' })
  }
  return partitions
}

/** The partitions the `arrival` client is registered for, each checked to exist. */
export function arrivalTargets (acc: RequestRecords, m: EncodedMessage, client: string, route: ArrivalRoute): number[] {
  const outside = route.partitions.find(p => !acc.idSet.has(p))
  if (outside !== undefined) {
    throw arrivalUnroutable(`${m.prefix}/arrival`, 'partitionAssigned',
      `client "${client}" is registered for partition ${outside}, but topic "${acc.topic}" has ${acc.ids.length} partitions`)
  }
  return route.partitions
}

/** The arrival routes of one request, resolved once per client. */
export function routeOf (state: ProduceState, routes: Map<string, Promise<ArrivalRoute>>, topic: string, m: EncodedMessage, client: string): Promise<ArrivalRoute> {
  let r = routes.get(client)
  if (r === undefined) {
    r = state.arrival.resolve(client, topic, `${m.prefix}/arrival`)
    routes.set(client, r)
  }
  return r
}

/** kafkajs' default partitioner's choice (murmur2 of the key; round-robin without one). */
export function defaultPartition (state: ProduceState, acc: RequestRecords, m: EncodedMessage): number {
  return state.partitioner({ topic: acc.topic, partitionMetadata: partitionMetadata(state.metadataOf, acc.ids), message: { key: m.key, value: m.value } })
}

/** kafkajs' partitioner wants partition metadata; ids are enough for it (leader only marks availability). */
function partitionMetadata (metadataOf: WeakMap<number[], PartitionMetadata[]>, ids: number[]): PartitionMetadata[] {
  let meta = metadataOf.get(ids)
  if (meta === undefined) {
    meta = ids.map(partitionId => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }))
    metadataOf.set(ids, meta)
  }
  return meta
}
