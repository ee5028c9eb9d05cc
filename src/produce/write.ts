/**
 * One produce, Idempotency-Key aside: the request checked and encoded (plan.ts), its topic's partitions
 * and size limit looked up, every record given its partition, then handed to the coalescing batcher,
 * which answers with each record's offset. Every request, answered or failed, is reported to the observers.
 */
import { AppError } from '../errors.js'
import { ARRIVAL_HEADER, DEPARTURE_HEADER, REQUEST_ID_HEADER } from '../kafka/record-format.js'
import { topicNameProblem } from '../kafka/topics.js'
import type { ArrivalRoute } from '../registry/arrival.js'
import { headerBytes } from './encoding.js'
import { normalizeRequest } from './plan.js'
import { addRecords, checkPartitionTotals, payloadBytesOf, resultsOf, startRecords } from './records.js'
import { emit, type ProduceState } from './state.js'
import { arrivalTargets, defaultPartition, explicitTargets, routeOf } from './targets.js'
import { explainSendFailure, partitionsOf } from './topic-partitions.js'
import { partitionLimit } from './topic-limit.js'
import type { ProduceContext, ProduceRequestInput, ProduceResponse } from './types.js'

export interface WrittenRequest {
  status: 200 | 202
  body: ProduceResponse
}

export async function produceOnce (state: ProduceState, request: ProduceRequestInput, ctx: ProduceContext): Promise<WrittenRequest> {
  const started = performance.now()
  try {
    return await write(state, request, ctx, started)
  } catch (err) {
    if (state.observers.size > 0) {
      const topic = typeof request?.topic === 'string' && topicNameProblem(request.topic) === undefined ? request.topic : ''
      emit(state.observers, state.log, { kind: 'request', topic, records: 0, bytes: 0, status: err instanceof AppError ? err.statusCode : 500, durationMs: performance.now() - started })
    }
    throw err
  }
}

async function write (state: ProduceState, request: ProduceRequestInput, ctx: ProduceContext, started: number): Promise<WrittenRequest> {
  const { topic, messages, options } = normalizeRequest(request)
  const ids = await partitionsOf(state, topic)
  const limit = await partitionLimit(state, topic)
  const { clientId } = state.kafka
  const acc = startRecords(topic, ids, limit, headerBytes(DEPARTURE_HEADER, clientId) + headerBytes(REQUEST_ID_HEADER, ctx.requestId))
  const routes = new Map<string, Promise<ArrivalRoute>>()

  for (const m of messages) {
    const headers: Record<string, string> = { ...m.headers, [DEPARTURE_HEADER]: clientId, [REQUEST_ID_HEADER]: ctx.requestId }
    let targets: number[]
    if (m.partitions !== undefined) {
      targets = explicitTargets(acc, m, m.partitions)
    } else if (m.arrival !== undefined) {
      targets = arrivalTargets(acc, m, m.arrival, await routeOf(state, routes, topic, m, m.arrival))
      headers[ARRIVAL_HEADER] = m.arrival
    } else {
      targets = [defaultPartition(state, acc, m)]
    }
    addRecords(acc, m, targets, headers)
  }
  checkPartitionTotals(acc)

  let offsets: Array<string | undefined>
  try {
    offsets = await state.batcher.send(acc.records, options)
  } catch (err) {
    throw await explainSendFailure(state, err, topic)
  }
  const results = resultsOf(acc, offsets)
  const status = options.acks === 0 ? 202 : 200
  if (state.observers.size > 0) {
    emit(state.observers, state.log, { kind: 'request', topic, records: acc.records.length, bytes: payloadBytesOf(acc), status, durationMs: performance.now() - started })
  }
  return { status, body: acc.warnings.length > 0 ? { results, warnings: acc.warnings } : { results } }
}
