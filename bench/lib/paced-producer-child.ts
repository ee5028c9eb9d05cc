/**
 * The latency row's load: POST /messages at a constant rate (open loop: record i is sent at
 * t0 + i / rate whatever the answers before it), from a process of its own (forked by
 * ./paced-producer.ts). Record i carries header `<seqHeader>: i`; its ack time (the 2xx answer, epoch ms
 * on performance.timeOrigin) is sent back per record, null when it failed.
 *
 * IPC: one `PacedRun` in, one `PacedResult` out, then it exits.
 */
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

async function run (cmd: PacedRun): Promise<PacedResult> {
  const pool = new Pool(cmd.url, { connections: cmd.connections, pipelining: 1, keepAliveTimeout: 30_000 })
  const total = Math.round(cmd.rate * cmd.seconds)
  const out: PacedResult = { ok: true, ackAt: new Array<number | null>(total).fill(null), requestMs: [], failures: 0, maxPending: 0 }
  const state = { next: 0 }
  const inFlight = new Set<Promise<void>>()

  async function send (seq: number): Promise<void> {
    const body = JSON.stringify({ topic: cmd.topic, value: cmd.value, headers: { [cmd.seqHeader]: String(seq) } })
    const t0 = now()
    try {
      const res = await pool.request({ path: '/messages', method: 'POST', headers: { 'content-type': 'application/json' }, body })
      await res.body.dump()
      if (res.statusCode >= 200 && res.statusCode < 300) {
        const at = now()
        out.ackAt[seq] = at
        out.requestMs.push(at - t0)
      } else {
        out.failures++
      }
    } catch {
      out.failures++
    }
  }

  const started = performance.now()
  await new Promise<void>(resolve => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - started) * cmd.rate) / 1000) + 1)
      while (state.next < due) {
        const p = send(state.next++).finally(() => { inFlight.delete(p) })
        inFlight.add(p)
      }
      out.maxPending = Math.max(out.maxPending, inFlight.size)
      if (state.next >= total) resolve()
      else setTimeout(tick, 1)
    }
    tick()
  })
  await Promise.all(inFlight)
  await pool.close()
  out.requestMs.sort((a, b) => a - b)
  return out
}

process.once('message', (cmd: PacedRun) => {
  const reply = (msg: PacedResult): void => { process.send?.(msg, () => { process.disconnect() }) }
  run(cmd).then(reply, (err: unknown) => {
    reply({ ok: false, error: err instanceof Error ? err.message : String(err), ackAt: [], requestMs: [], failures: 0, maxPending: 0 })
  })
})
