// The @platformatic/kafka direct-client reference of the produce rows, in a process of its own run with
// NODE22 (it needs Node >= 22.22): plain JavaScript so Node 22 runs it as is, no tsx. Forked by
// bench/lib/platformatic-kafka.ts with an IPC channel; argv[2] is the package's entry file (from the
// install in KAFKA_HOOKS_DIR). Each `run` command sends for `seconds` with `inFlight` sends pending, each
// of `batch` records, acks -1, and answers with the figures; `exit` closes the producer and ends.
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import process from 'node:process'
import { pathToFileURL } from 'node:url'

const { Producer, stringSerializers } = await import(pathToFileURL(process.argv[2]).href)

/** One producer, kept across runs (its connections and metadata warm, like kafkajs in the runner). */
const state = { producer: undefined, key: '' }

// maxInflights (requests pending per connection) is 5 by default: raised to the run's sends in flight, so
// that many are really pending, as with kafkajs (no such cap) at the same concurrency
function producerFor (brokers, inFlight) {
  const key = `${brokers.join(',')} ${inFlight}`
  if (state.producer === undefined || state.key !== key) {
    void state.producer?.close()
    state.producer = new Producer({ clientId: 'bench-platformatic-kafka', bootstrapBrokers: brokers, serializers: stringSerializers, acks: -1, maxInflights: inFlight })
    state.key = key
  }
  return state.producer
}

/** The p-th percentile of an ascending array, as bench/lib/util.ts computes it. */
function percentile (sorted, p) {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function run (cmd) {
  const producer = producerFor(cmd.brokers, cmd.inFlight)
  const value = 'x'.repeat(cmd.valueBytes)
  const latencies = []
  const counts = { messages: 0, failures: 0, firstError: undefined }
  const started = performance.now()
  const deadline = started + cmd.seconds * 1000
  async function loop () {
    while (performance.now() < deadline) {
      const t0 = performance.now()
      const headers = { 'content-type': 'text/plain; charset=utf-8', departure: 'bench-platformatic', 'x-request-id': randomUUID() }
      try {
        await producer.send({ acks: -1, messages: Array.from({ length: cmd.batch }, () => ({ topic: cmd.topic, value, headers })) })
        counts.messages += cmd.batch
        latencies.push(performance.now() - t0)
      } catch (err) {
        counts.firstError ??= err instanceof Error ? err.message : String(err)
        counts.failures++
      }
    }
  }
  await Promise.all(Array.from({ length: cmd.inFlight }, loop))
  const durationS = (performance.now() - started) / 1000
  const sorted = Float64Array.from(latencies).sort()
  return {
    messagesPerSec: counts.messages / durationS,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    messages: counts.messages,
    failures: counts.failures,
    durationS,
    ...(counts.firstError !== undefined ? { firstError: counts.firstError } : {})
  }
}

process.on('message', (cmd) => {
  if (cmd.type === 'exit') {
    Promise.resolve(state.producer?.close()).catch(() => undefined).finally(() => { process.disconnect() })
    return
  }
  run(cmd).then(
    (figures) => { process.send({ ok: true, figures }) },
    (err) => { process.send({ ok: false, error: err instanceof Error ? err.message : String(err) }) }
  )
})
process.send({ ready: true })
