import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { request } from 'undici'
import { startDelayProxy } from './delay-proxy.js'

t.test('the delay proxy passes requests through, and delays both directions when told', async t => {
  const body = 'x'.repeat(200_000)
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => { res.end(`${req.url ?? ''} ${Buffer.concat(chunks).length}`) })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const proxy = await startDelayProxy({ host: '127.0.0.1', port: (server.address() as AddressInfo).port }, 5)
  t.teardown(async () => {
    await proxy.close()
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  })
  const post = async (path: string): Promise<{ text: string, ms: number }> => {
    const start = performance.now()
    const res = await request(`http://${proxy.address}${path}`, { method: 'POST', body })
    return { text: await res.body.text(), ms: performance.now() - start }
  }

  t.equal((await post('/plain')).text, `/plain ${body.length}`, 'pass-through: the whole body arrives and the answer comes back')
  proxy.delay(150, 50)
  const slow = await post('/slow')
  t.equal(slow.text, `/slow ${body.length}`, 'delayed: every chunk still arrives, in order')
  t.ok(slow.ms >= 300, `a round trip through the delay takes ≥ 2 × 150 ms (${Math.round(slow.ms)} ms)`)
  proxy.delay(0, 0)
  t.equal((await post('/again')).text, `/again ${body.length}`, 'pass-through again')
  t.ok(proxy.connections >= 1)
})
