import t from 'tap'
import { build, captureLogger } from '../helpers/build.js'

t.test('one log line per request with route, status, duration and the request id, echoed back', async t => {
  const { logger, logs } = captureLogger('info')
  const app = await build(t, { API_KEYS: 'top-secret-key' }, logger)
  const res = await app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'trace-abc-123' } })
  t.equal(res.headers['x-request-id'], 'trace-abc-123')
  const generated = await app.inject({ method: 'GET', url: '/health/live' })
  t.match(generated.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'generated when absent')
  const bad = await app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'bad id\twith tab' } })
  t.not(bad.headers['x-request-id'], 'bad id\twith tab', 'unsafe ids are replaced')

  await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer top-secret-key' } })
  const lines = logs.lines().filter(l => l.msg === 'request')
  const mine = lines.filter(l => l.reqId === 'trace-abc-123')
  t.equal(mine.length, 1, 'exactly one line for the request')
  t.match(mine[0], { method: 'GET', route: '/health/live', status: 200, durationMs: Number })
  t.notMatch(logs.text(), /top-secret-key/, 'the API key never reaches the log')
})
