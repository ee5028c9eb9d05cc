/**
 * A small round-robin HTTP proxy on loopback, standing in for a load balancer in front of several gateway
 * instances: each request goes to the next backend in turn; a backend that refuses the connection is skipped
 * for the next one (as nginx's proxy_next_upstream does), so a killed instance only costs a retry.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

export interface RoundRobinProxy {
  url: string
  /** Backend base URL → requests it answered. */
  served: Map<string, number>
}

function pass (backend: string, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<boolean> {
  return new Promise(resolve => {
    const target = new URL(req.url ?? '/', backend)
    const out = httpRequest(target, { method: req.method, headers: { ...req.headers, host: target.host } }, upstream => {
      res.writeHead(upstream.statusCode ?? 502, upstream.headers)
      upstream.pipe(res)
      upstream.on('end', () => resolve(true))
      upstream.on('error', () => { res.destroy(); resolve(true) })
    })
    // connection refused or reset before an answer: try the next backend
    out.on('error', () => resolve(false))
    out.end(body)
  })
}

export async function startRoundRobinProxy (t: Test, backends: string[]): Promise<RoundRobinProxy> {
  let next = 0
  const served = new Map<string, number>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void (async () => {
        for (let tried = 0; tried < backends.length; tried++) {
          const backend = backends[next++ % backends.length] as string
          if (await pass(backend, req, Buffer.concat(chunks), res)) {
            served.set(backend, (served.get(backend) ?? 0) + 1)
            return
          }
        }
        res.writeHead(502, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ statusCode: 502, error: 'Bad Gateway', code: 'PROXY_NO_BACKEND', message: 'no backend answered' }))
      })()
    })
  })
  server.keepAliveTimeout = 1000
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, served }
}
