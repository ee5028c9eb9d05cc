/**
 * A real webhook receiver for end-to-end tests (node:http, port 0): records every request as it arrives
 * (before answering), answers with a programmable, possibly delayed, reply, and can be taken down and
 * brought back up on the same port.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

export interface Envelope {
  topic: string
  partition: number
  offset: string
  timestamp: string
  key: string | null
  keyEncoding?: 'utf8' | 'base64'
  value: unknown
  valueEncoding: 'json' | 'utf8' | 'base64' | null
  contentType?: string
  headers: Record<string, string | string[]>
}

export interface Hit {
  /** Date.now() when the body was complete. */
  at: number
  headers: IncomingHttpHeaders
  /** The body exactly as received. */
  raw: string
  body: Envelope
  /** The status answered; undefined while the answer is pending (or when the connection died first). */
  status?: number
}

export interface Reply { status: number, headers?: Record<string, string> }

export interface Hook {
  url: string
  port: number
  hits: Hit[]
  /** Decides each answer; may wait (hold the request). Default: 204 at once. */
  reply: (hit: Hit, index: number) => Reply | Promise<Reply>
  /** Hits answered 2xx, in arrival order. */
  ok: () => Hit[]
  /** Stops listening and drops every connection (the endpoint is down). */
  down: () => Promise<void>
  /** Listens again on the same port. */
  up: () => Promise<void>
}

export async function startHook (t: Test, reply?: (hit: Hit, index: number) => Reply | Promise<Reply>): Promise<Hook> {
  const hits: Hit[] = []
  let server: Server | undefined
  const hook: Hook = {
    url: '',
    port: 0,
    hits,
    reply: reply ?? (() => ({ status: 204 })),
    ok: () => hits.filter(h => h.status !== undefined && h.status >= 200 && h.status < 300),
    down: async () => {
      const s = server
      server = undefined
      if (s === undefined) return
      s.closeAllConnections()
      await new Promise<void>(resolve => s.close(() => resolve()))
    },
    up: async () => {
      if (server !== undefined) return
      server = make()
      const s = server
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject)
        s.listen(hook.port, '127.0.0.1', () => { s.off('error', reject); resolve() })
      })
      hook.port = (s.address() as AddressInfo).port
      hook.url = `http://127.0.0.1:${hook.port}/hook`
    }
  }

  function make (): Server {
    const s = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        let body: Envelope
        try {
          body = JSON.parse(raw) as Envelope
        } catch {
          res.writeHead(400).end()
          return
        }
        const hit: Hit = { at: Date.now(), headers: req.headers, raw, body }
        const index = hits.length
        hits.push(hit)
        void Promise.resolve(hook.reply(hit, index)).then(({ status, headers }) => {
          if (res.destroyed) return
          hit.status = status
          res.writeHead(status, headers).end()
        }, () => { res.writeHead(500).end() })
      })
    })
    s.keepAliveTimeout = 5000
    return s
  }

  await hook.up()
  t.teardown(() => hook.down())
  return hook
}

/** Hits grouped by partition, in arrival order. */
export function byPartition (hits: readonly Hit[]): Map<number, Hit[]> {
  const out = new Map<number, Hit[]>()
  for (const h of hits) {
    const list = out.get(h.body.partition) ?? []
    list.push(h)
    out.set(h.body.partition, list)
  }
  return out
}

/** A header's single value (first of a list). */
export function one (headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}
