/**
 * Redis layout shared by every gateway instance (and syrup-kafka processes) on one REGISTRY_KEY:
 *
 * - `<key>` (hash): field = clientId, value = syrup-kafka's registry JSON
 *   `{ "<topic>": { groupId, memberId, leaderId, isLeader, groupProtocol, partitions, groups? } }`.
 *   The top-level fields of a topic describe one group (a custom-assigner one when there is one, so
 *   syrup-kafka's `arrival` routing finds it); `groups` lists every group of the instance on that topic.
 * - `<key>:gateways` (set): clientIds of gateway instances. A gateway entry is live only while its
 *   `<key>:alive:<clientId>` key exists; entries without membership here are syrup-kafka processes.
 * - `<key>:alive:<clientId>` (string, PX TTL = 3 heartbeats): this instance's heartbeat.
 * - `<key>:groups` (hash): field = groupId, value = the consumer-group record JSON
 *   `{ groupId, hash, version, updatedAt, declarations: [ { hash, version, createdAt, updatedAt, definition } ] }`
 *   (src/consumers/store.ts). A group has one declaration per disjoint set of instances (`clientIds`);
 *   only partition-assigned groups may have several. `hash` is the compare-and-set token of a record.
 * - `<key>:status:<clientId>` (hash, PX TTL = 3 heartbeats): field = groupId, value = that instance's live
 *   status JSON `{ state, running, lastError, delivered, deadLettered, errors, partitions, updatedAt,
 *   retried, inFlight, lastStatus, lag, lagUpdatedAt, byPartition: [ { topic, partition, delivered, retried, deadLettered,
 *   inFlight, lastStatus, lastError, lag, committedOffset, highWatermark, assigned } ] }` (src/consumers/runner/status.ts).
 * - `<key>:stopped:<clientId>` (hash): field = groupId, value = `{ at, by }`: groups that DELETE /consumers
 *   stopped on that instance. Honoured until the instance restarts or the group is POSTed again.
 * - `<key>:epoch` (string, no TTL): a random token set once; when it vanishes or changes, Redis lost its
 *   data and every instance writes back the definitions, registry entry and heartbeat it holds in memory.
 * - `<key>:idempotency:<key>` (string, TTL): the first answer to a POST /messages with that Idempotency-Key.
 */
export interface RegistryKeys {
  registry: string
  gateways: string
  alive: (clientId: string) => string
  groups: string
  status: (clientId: string) => string
  stopped: (clientId: string) => string
  epoch: string
  idempotency: (key: string) => string
}

export function registryKeys (key: string): RegistryKeys {
  return {
    registry: key,
    gateways: `${key}:gateways`,
    alive: (clientId) => `${key}:alive:${clientId}`,
    groups: `${key}:groups`,
    status: (clientId) => `${key}:status:${clientId}`,
    stopped: (clientId) => `${key}:stopped:${clientId}`,
    epoch: `${key}:epoch`,
    idempotency: (k) => `${key}:idempotency:${k}`
  }
}

/** One group's part of a registry entry, in syrup-kafka's field names. */
export interface RegistryGroupEntry {
  groupId: string
  memberId: string
  leaderId: string
  isLeader: boolean
  groupProtocol: string
  partitions: number[]
}

/** The registry value for one client: topic → the syrup-kafka fields, plus every group on that topic. */
export type RegistryEntry = Record<string, RegistryGroupEntry & { groups?: RegistryGroupEntry[] }>
