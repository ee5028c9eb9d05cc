/**
 * Server-sent events over a hijacked Fastify reply: the framing (`id:`, `event:`, `data:` lines), heartbeat
 * comments, and backpressure (past STREAM_BUFFER_BYTES held → wait for `drain`). Fastify's onSend hooks do not
 * run for a hijacked reply, so the headers they add (x-request-id) are written here.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'

export interface SseWriter {
  /** Writes one event; false when the stream holds STREAM_BUFFER_BYTES or more (the caller waits for `drained()`). */
  event (id: string, event: string, data: string): boolean
  /** Resolves once the buffer is written out (or the stream closed). */
  drained (): Promise<void>
  /** Ends the response (once); the close callbacks run. */
  end (): void
  readonly closed: boolean
  /** Runs `fn` once when the stream ends, whoever ended it (the client, the gateway, a failure). */
  onClose (fn: () => void): void
}

/**
 * How much a stream may hold for a slow client before its partitions pause. `write()` says false past the
 * socket's 16 KiB high-water mark, which one large record passes while the kernel takes it at once:
 * pausing there would refetch after every record.
 */
export const STREAM_BUFFER_BYTES = 1024 * 1024

/** Client reconnect delay sent with `retry:`: the stream is cheap to resume. */
const RETRY_MS = 1000

/** Each line of `data` as its own `data:` line: the client joins them with "\n" (JSON text keeps its meaning). */
const dataLines = (data: string): string => data.split(/\r\n|\r|\n/).map(l => `data: ${l}\n`).join('')

export function openSse (request: FastifyRequest, reply: FastifyReply, heartbeatMs: number): SseWriter {
  reply.hijack()
  const res = reply.raw
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    // proxies (nginx) must not buffer the stream
    'x-accel-buffering': 'no',
    'x-request-id': request.id
  })
  res.write(`retry: ${RETRY_MS}\n\n`)
  const closers: Array<() => void> = []
  let closed = false
  const heartbeat = setInterval(() => { if (!closed) res.write(': ping\n\n') }, heartbeatMs)
  heartbeat.unref()
  const onClosed = (): void => {
    if (closed) return
    closed = true
    clearInterval(heartbeat)
    for (const fn of closers.splice(0)) fn()
  }
  res.on('close', onClosed)
  res.on('error', onClosed)

  return {
    event (id, event, data) {
      if (closed) return true
      res.write(`id: ${id}\nevent: ${event}\n${dataLines(data)}\n`)
      return res.writableLength < STREAM_BUFFER_BYTES
    },
    async drained () {
      if (closed || res.writableLength < STREAM_BUFFER_BYTES) return
      await new Promise<void>(resolve => {
        const done = (): void => { res.off('drain', done); res.off('close', done); resolve() }
        res.on('drain', done)
        res.on('close', done)
      })
    },
    end () {
      if (!res.writableEnded) res.end()
      // the socket too: a kept-alive idle socket would hold the listener's close
      res.socket?.end()
      onClosed()
    },
    get closed () { return closed },
    onClose (fn) {
      if (closed) fn()
      else closers.push(fn)
    }
  }
}
