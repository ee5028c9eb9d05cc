import t from 'tap'
import { build } from '../helpers/build.js'

function sample (text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`)
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
    if (want.every(w => line.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return undefined
}

t.test('GET /metrics serves Prometheus text with HTTP and process metrics that move', async t => {
  const app = await build(t)
  const first = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(first.statusCode, 200)
  t.match(first.headers['content-type'], /text\/plain/)
  t.match(first.body, /# TYPE gateway_process_resident_memory_bytes gauge/)
  t.match(first.body, /# TYPE gateway_produce_records_total counter/)
  t.match(first.body, /# TYPE gateway_webhook_deliveries_total counter/)

  for (let i = 0; i < 3; i++) await app.inject({ method: 'GET', url: '/health/live' })
  await app.inject({ method: 'GET', url: '/nope' })
  const second = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(sample(second.body, 'gateway_http_requests_total', { route: '/health/live', status: '200' }), 3)
  t.equal(sample(second.body, 'gateway_http_requests_total', { route: 'unmatched', status: '404' }), 1)
})

t.test('/metrics is behind API keys like every other non-health route', async t => {
  const app = await build(t, { API_KEYS: 'k1' })
  t.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer k1' } })).statusCode, 200)
})

t.test('METRICS_PORT serves metrics on a separate listener instead', async t => {
  const app = await build(t, { METRICS_PORT: '0' })
  t.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404, 'not on the public port')
})
