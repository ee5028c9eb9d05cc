/**
 * `npm run dev`'s webhook receiver: answers 204 and prints one line per delivered record, so a newcomer
 * sees the consumer group's deliveries in the same terminal without writing a service first.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface DevReceiver { url: string, close: () => Promise<void> }

interface Envelope { topic?: string, partition?: number, offset?: string, key?: unknown, value?: unknown }

function describe (e: Envelope): string {
  const value = typeof e.value === 'string' ? e.value : JSON.stringify(e.value)
  return `${e.topic ?? '?'}/${e.partition ?? '?'}@${e.offset ?? '?'} key=${JSON.stringify(e.key ?? null)} value=${(value ?? '').slice(0, 200)}`
}

export async function startDevReceiver (port: number, print: (line: string) => void): Promise<DevReceiver> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Envelope & { records?: Envelope[] }
        for (const e of body.records ?? [body]) print(`webhook received ${describe(e)}`)
      } catch {
        print(`webhook received ${chunks.length} chunk(s) of non-JSON`)
      }
      res.statusCode = 204
      res.end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: () => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}
