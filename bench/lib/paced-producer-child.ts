/**
 * The latency row's load: POST /messages at a constant rate (open loop: record i is sent at
 * t0 + i / rate whatever the answers before it), from a process of its own (forked by
 * ./paced-producer.ts) — or, with `brokers`, kafkajs sends straight to Kafka (acks -1; the records
 * due at each 1 ms tick in one send), so the gateway only delivers. Record i carries header
 * `<seqHeader>: i`; its ack time (the 2xx answer or the send's resolution, epoch ms on
 * performance.timeOrigin) is sent back per record, null when it failed.
 *
 * IPC: one `PacedRun` in, one `PacedResult` out, then it exits.
 */
import kafkajs from 'kafkajs'
import { Pool } from 'undici'

export interface PacedRun {
  url: string
  topic: string
  /** Records per second. */
  rate: number
  seconds: number
  connections: number
  value: string
  seqHeader: string
  /** Produce with kafkajs to these brokers instead of POST /messages to `url`. */
  brokers?: string[]
}

export interface PacedResult {
  ok: boolean
  error?: string
  /** Ack time of record i (epoch ms), null when its request failed. */
  ackAt: Array<number | null>
  /** Request latency (send to 2xx) of the acknowledged records, ms, ascending. */
  requestMs: number[]
  failures: number
  /** Most requests pending at once. */
  maxPending: number
}

const now = (): number => performance.timeOrigin + performance.now()

/** Sends records `from` … `to − 1`, resolving true once they are acknowledged; and how to close the sender. */
interface Sender { send: (from: number, to: number) => Promise<boolean>, perTick: boolean, close: () => Promise<void> }

function gatewaySender (cmd: PacedRun): Sender {
  const pool = new Pool(cmd.url, { connections: cmd.connections, pipelining: 1, keepAliveTimeout: 30_000 })
  return {
    perTick: false,
    send: async (seq) => {
      const body = JSON.stringify({ topic: cmd.topic, value: cmd.value, headers: { [cmd.seqHeader]: String(seq) } })
      const res = await pool.request({ path: '/messages', method: 'POST', headers: { 'content-type': 'application/json' }, body })
      await res.body.dump()
      return res.statusCode >= 200 && res.statusCode < 300
    },
    close: async () => { await pool.close() }
  }
}

async function kafkaSender (cmd: PacedRun, brokers: string[]): Promise<Sender> {
  const producer = new kafkajs.Kafka({ clientId: 'bench-paced', brokers, logLevel: kafkajs.logLevel.NOTHING }).producer()
  await producer.connect()
  return {
    perTick: true,
    send: async (from, to) => {
      const messages = Array.from({ length: to - from }, (_v, i) => ({ value: cmd.value, headers: { [cmd.seqHeader]: String(from + i) } }))
      await producer.send({ topic: cmd.topic, acks: -1, messages })
      return true
    },
    close: async () => { await producer.disconnect() }
  }
}

async function run (cmd: PacedRun): Promise<PacedResult> {
  const sender = cmd.brokers !== undefined ? await kafkaSender(cmd, cmd.brokers) : gatewaySender(cmd)
  const total = Math.round(cmd.rate * cmd.seconds)
  const out: PacedResult = { ok: true, ackAt: new Array<number | null>(total).fill(null), requestMs: [], failures: 0, maxPending: 0 }
  const state = { next: 0 }
  const inFlight = new Set<Promise<void>>()

  async function send (from: number, to: number): Promise<void> {
    const t0 = now()
    try {
      if (await sender.send(from, to)) {
        const at = now()
        for (let seq = from; seq < to; seq++) {
          out.ackAt[seq] = at
          out.requestMs.push(at - t0)
        }
      } else {
        out.failures += to - from
      }
    } catch {
      out.failures += to - from
    }
  }
  const start = (from: number, to: number): void => {
    const p = send(from, to).finally(() => { inFlight.delete(p) })
    inFlight.add(p)
  }

  const started = performance.now()
  await new Promise<void>(resolve => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - started) * cmd.rate) / 1000) + 1)
      if (sender.perTick && state.next < due) {
        start(state.next, due)
        state.next = due
      }
      for (; state.next < due; state.next++) start(state.next, state.next + 1)
      out.maxPending = Math.max(out.maxPending, inFlight.size)
      if (state.next >= total) resolve()
      else setTimeout(tick, 1)
    }
    tick()
  })
  await Promise.all(inFlight)
  await sender.close()
  out.requestMs.sort((a, b) => a - b)
  return out
}

process.once('message', (cmd: PacedRun) => {
  const reply = (msg: PacedResult): void => { process.send?.(msg, () => { process.disconnect() }) }
  run(cmd).then(reply, (err: unknown) => {
    reply({ ok: false, error: err instanceof Error ? err.message : String(err), ackAt: [], requestMs: [], failures: 0, maxPending: 0 })
  })
})
