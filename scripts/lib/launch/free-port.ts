/** Ports on 127.0.0.1 for the processes the launchers start. */
import { once } from 'node:events'
import { createServer, type Server } from 'node:net'

/** Ports currently free on 127.0.0.1 (all listeners are held open together, so they differ). */
export async function freePorts (count: number, avoid: number[] = []): Promise<number[]> {
  const servers: Server[] = []
  const ports: number[] = []
  try {
    while (ports.length < count) {
      const s = createServer()
      servers.push(s)
      s.listen(0, '127.0.0.1')
      await once(s, 'listening')
      const addr = s.address()
      if (addr === null || typeof addr === 'string') throw new Error('unexpected server address')
      if (!avoid.includes(addr.port)) ports.push(addr.port)
    }
  } finally {
    await Promise.all(servers.map(async s => await new Promise<void>(resolve => { s.close(() => { resolve() }) })))
  }
  return ports
}

export async function freePort (): Promise<number> {
  const [port] = await freePorts(1)
  if (port === undefined) throw new Error('no free port')
  return port
}

/** Whether `port` on 127.0.0.1 can be listened on now. */
export async function portFree (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const s = createServer().once('error', () => { resolve(false) }).listen(port, '127.0.0.1', () => s.close(() => { resolve(true) }))
  })
}
