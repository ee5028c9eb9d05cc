/** Server-sent event clients for the stream tests: the real `eventsource` package, and a raw reader for what EventSource hides (comments). */
import { request as httpRequest, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { EventSource } from 'eventsource'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import type { Envelope } from '../../e2e/helpers/hook.js'

/** Listens on a loopback port; returns the base URL. */
export async function listening (app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

/** One `event: record`: its id, its data as sent, and that data parsed. */
export interface StreamedRecord { id: string, raw: string, envelope: Envelope }

export interface StreamClient {
  readonly records: StreamedRecord[]
  /** Data of `event: position` (the starting cursor). */
  readonly positions: Array<{ cursor: string }>
  /** The id of the last event received (what EventSource would send back as Last-Event-ID). */
  lastEventId (): string
  opened (): boolean
  errors (): number
  close (): void
}

/**
 * An EventSource on `url`; `lastEventId` is sent as the Last-Event-ID header (as EventSource does on
 * reconnect); `closeAfter` closes the client as soon as that many records arrived (a client going away).
 */
export function openStream (t: Test, url: string, opts: { lastEventId?: string, closeAfter?: number } = {}): StreamClient {
  const records: StreamedRecord[] = []
  const positions: Array<{ cursor: string }> = []
  let last = opts.lastEventId ?? ''
  let opened = false
  let errors = 0
  const es = new EventSource(url, {
    fetch: async (input, init) => await fetch(input, {
      ...init,
      headers: { ...init.headers, ...(opts.lastEventId !== undefined ? { 'last-event-id': opts.lastEventId } : {}) }
    })
  })
  es.addEventListener('open', () => { opened = true })
  es.addEventListener('error', () => { errors++ })
  es.addEventListener('position', (e) => {
    positions.push(JSON.parse(e.data) as { cursor: string })
    last = e.lastEventId
  })
  es.addEventListener('record', (e) => {
    if (opts.closeAfter !== undefined && records.length >= opts.closeAfter) return
    records.push({ id: e.lastEventId, raw: e.data, envelope: JSON.parse(e.data) as Envelope })
    last = e.lastEventId
    if (records.length === opts.closeAfter) es.close()
  })
  t.teardown(() => { es.close() })
  return { records, positions, lastEventId: () => last, opened: () => opened, errors: () => errors, close: () => { es.close() } }
}

/** A raw GET of an event stream: the text as it arrives, and the response (to pause it, or destroy it). */
export async function rawStream (t: Test, url: string): Promise<{ res: IncomingMessage, text: () => string }> {
  let text = ''
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest(url, { headers: { accept: 'text/event-stream' } }, resolve)
    req.on('error', reject)
    req.end()
  })
  res.setEncoding('utf8')
  res.on('data', (chunk: string) => { text += chunk })
  t.teardown(() => { res.destroy() })
  return { res, text: () => text }
}
