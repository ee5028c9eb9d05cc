import t from 'tap'
import { build, captureLogger, waitFor } from '../helpers/build.js'

function blockEventLoop (ms: number): void {
  const until = Date.now() + ms
  while (Date.now() < until) { /* deliberately busy: simulates a stalled event loop */ }
}

t.test('a lagging event loop gets 503 + Retry-After in the error shape; health stays up', async t => {
  const { logger, logs } = captureLogger('info')
  const app = await build(t, { MAX_EVENT_LOOP_DELAY_MS: '50' }, logger)
  const shed = await waitFor('a shed request', async () => {
    blockEventLoop(300)
    await new Promise(resolve => setImmediate(resolve))
    const res = await app.inject({ method: 'GET', url: '/openapi.json' })
    return res.statusCode === 503 ? res : undefined
  }, 20_000, 1)
  t.equal(shed.headers['retry-after'], '1')
  t.match(shed.json(), { statusCode: 503, code: 'GW_OVERLOADED', message: /overloaded/ })

  blockEventLoop(300)
  await new Promise(resolve => setImmediate(resolve))
  const live = await app.inject({ method: 'GET', url: '/health/live' })
  t.equal(live.statusCode, 200, 'liveness is never shed')

  t.notMatch(logs.text(), /already sent/i, 'a shed request never reaches its route')
  t.ok(logs.lines().some(l => l.msg === 'shedding load'), 'shedding is logged')

  await waitFor('recovery', async () => (await app.inject({ method: 'GET', url: '/openapi.json' })).statusCode === 200, 20_000)
  t.pass('answers again once the loop is calm')
})
