/** A real webhook receiver on node:http, port 0: records every POST; the answer status is programmable. */
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

export interface Received {
  body: {
    topic: string
    partition: number
    offset: string
    key: string | null
    value: unknown
    headers: Record<string, string | string[]>
  }
  headers: IncomingHttpHeaders
  path: string
}

export interface Receiver {
  url: string
  received: Received[]
  /** Status to answer (default 204); may look at the request body. */
  status: (r: Received) => number
  /** Bodies' values as strings, in arrival order. */
  values: () => string[]
}

export async function startReceiver (t: Test, status: (r: Received) => number = () => 204): Promise<Receiver> {
  const received: Received[] = []
  const receiver: Receiver = {
    url: '',
    received,
    status,
    values: () => received.map(r => typeof r.body.value === 'string' ? r.body.value : JSON.stringify(r.body.value))
  }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      let body: Received['body']
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Received['body']
      } catch {
        res.statusCode = 400
        res.end()
        return
      }
      const r: Received = { body, headers: req.headers, path: req.url ?? '/' }
      const code = receiver.status(r)
      if (code >= 200 && code < 300) received.push(r)
      res.statusCode = code
      res.end()
    })
  })
  server.keepAliveTimeout = 1000
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
  t.teardown(() => new Promise<void>(resolve => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  return receiver
}
