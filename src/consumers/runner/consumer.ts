/**
 * The runner's kafkajs consumer: built for the group (round-robin groups use kafkajs' RoundRobinAssigner,
 * partition-assigned groups the `custom-assigner` of src/kafka/partition-assigner.ts with this instance's
 * declared partitions), wired to the group events, connected, subscribed and run with the batch loop.
 */
import kafkajs, { type Consumer, type Kafka } from 'kafkajs'
import { declaredPartitionAssigner } from '../../kafka/partition-assigner.js'
import { declaredPartitions, type GroupDefinition } from '../definition.js'
import { eachBatch } from './batch.js'
import { onCrash, onGroupJoin, onRebalancing } from './group-events.js'
import { touch, type RunnerState } from './state.js'
import { errorText } from './status.js'

const { PartitionAssigners } = kafkajs

function createConsumer (kafka: Kafka, groupId: string, def: GroupDefinition): Consumer {
  return kafka.consumer({
    groupId,
    partitionAssigners: def.isPartitionAssign
      ? [declaredPartitionAssigner(declaredPartitions(def))]
      : [PartitionAssigners.roundRobin],
    sessionTimeout: def.consumer.sessionTimeoutMs,
    heartbeatInterval: def.consumer.heartbeatIntervalMs,
    rebalanceTimeout: def.consumer.rebalanceTimeoutMs,
    maxWaitTimeInMs: def.consumer.maxWaitTimeMs,
    allowAutoTopicCreation: false
  })
}

function listen (state: RunnerState, c: Consumer): void {
  c.on(c.events.GROUP_JOIN, ({ payload }) => { onGroupJoin(state, payload) })
  c.on(c.events.REBALANCING, () => { onRebalancing(state) })
  c.on(c.events.CRASH, ({ payload }) => { onCrash(state, c, payload) })
}

/** Builds, connects and runs the consumer; resolves once it runs (or failed, or was stopped meanwhile). */
export async function runConsumer (state: RunnerState): Promise<void> {
  const def = state.def
  let c: Consumer
  try {
    c = createConsumer(state.deps.kafka, state.groupId, def)
  } catch (err) {
    fail(state, err, 'consumer could not be created')
    return
  }
  state.consumer = c
  listen(state, c)
  try {
    await c.connect()
    await c.subscribe({ topics: state.topics, fromBeginning: def.fromBeginning })
    if (state.phase !== 'starting') return // stopped meanwhile
    await c.run({
      // commits.ts schedules every commit: kafkajs' own would await one at the end of every batch
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: def.concurrency,
      eachBatch: payload => eachBatch(state, payload)
    })
  } catch (err) {
    if (state.phase === 'stopping' || state.phase === 'stopped') return
    await disconnect(state)
    fail(state, err, 'consumer failed to start')
  }
}

export async function disconnect (state: RunnerState): Promise<void> {
  try {
    await state.consumer?.disconnect()
  } catch (err) {
    state.log.warn({ err }, 'consumer disconnect failed')
  }
}

function fail (state: RunnerState, err: unknown, message: string): void {
  state.phase = 'failed'
  state.running = false
  state.lastError = errorText(err)
  touch(state)
  state.log.error({ event: 'ERROR', err }, message)
  state.deps.onFailed(state.groupId, err instanceof Error ? err : new Error(String(err)))
}
