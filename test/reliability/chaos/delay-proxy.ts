/**
 * A TCP proxy on loopback that can add delay and jitter (the chaos soak's "network-delay": it sits between
 * the gateways and the webhook receiver). Pass-through by default; `delay()` holds every chunk, in both
 * directions, `delayMs` plus a random share of `jitterMs`, keeping each direction's byte order.
 */
import { createServer, connect, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { seededRandom } from '../random.js'

export interface DelayProxy {
  /** host:port the proxy listens on */
  readonly address: string
  /** Connections accepted so far. */
  readonly connections: number
  /** Adds `delayMs` + random(0..jitterMs) to every chunk from now on; delay(0, 0) is pass-through. */
  delay (delayMs: number, jitterMs?: number): void
  close (): Promise<void>
}

export async function startDelayProxy (target: { host: string, port: number }, seed = 1): Promise<DelayProxy> {
  const random = seededRandom(seed)
  let delayMs = 0
  let jitterMs = 0
  let connections = 0
  const sockets = new Set<Socket>()

  /** Forwards `from` to `to`: chunks leave no earlier than their delay and never before the previous one. */
  const pipe = (from: Socket, to: Socket): void => {
    let lastDue = 0
    let pending = 0
    let ended = false
    const finish = (): void => { if (ended && pending === 0) to.end() }
    from.on('data', (chunk: Buffer) => {
      if (delayMs === 0 && jitterMs === 0 && pending === 0) {
        to.write(chunk)
        return
      }
      const due = Math.max(lastDue, performance.now() + delayMs + random() * jitterMs)
      lastDue = due
      pending++
      setTimeout(() => {
        pending--
        if (!to.destroyed) to.write(chunk)
        finish()
      }, Math.max(0, due - performance.now()))
    })
    from.on('end', () => {
      ended = true
      finish()
    })
  }

  const server: Server = createServer(client => {
    connections++
    const upstream = connect(target.port, target.host)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => { sockets.delete(s) })
    }
    // a reset on one side is a reset on the other (the receiver's injected resets must reach the gateway)
    client.on('error', () => { upstream.destroy() })
    upstream.on('error', () => { client.resetAndDestroy() })
    // a clean end travels through pipe() after the chunks still held; only an abrupt close cuts the other side
    client.on('close', hadError => { if (hadError && !upstream.destroyed) upstream.destroy() })
    upstream.on('close', hadError => { if (hadError && !client.destroyed) client.resetAndDestroy() })
    pipe(client, upstream)
    pipe(upstream, client)
  })
  server.on('error', () => undefined)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    address: `127.0.0.1:${port}`,
    get connections () { return connections },
    delay (ms, jitter = 0) {
      delayMs = ms
      jitterMs = jitter
    },
    async close () {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
