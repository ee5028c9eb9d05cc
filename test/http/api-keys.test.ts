import t from 'tap'
import { build } from '../helpers/build.js'
import { matchesApiKey } from '../../src/http/auth.js'
import { createHash } from 'node:crypto'

t.test('matchesApiKey compares against every key', async t => {
  const d = (s: string): Buffer => createHash('sha256').update(s).digest()
  const keys = [d('alpha'), d('beta')]
  t.ok(matchesApiKey('alpha', keys))
  t.ok(matchesApiKey('beta', keys))
  t.notOk(matchesApiKey('alph', keys))
  t.notOk(matchesApiKey('', keys))
})

t.test('with API_KEYS set, routes need a right Bearer key; /health does not', async t => {
  const app = await build(t, { API_KEYS: 'secret-one,secret-two' })
  const none = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(none.statusCode, 401)
  t.match(none.json(), { statusCode: 401, error: 'Unauthorized', code: 'GW_UNAUTHORIZED', message: /missing Authorization/ })
  t.equal(none.headers['www-authenticate'], 'Bearer')

  const wrong = await app.inject({ method: 'GET', url: '/openapi.json', headers: { authorization: 'Bearer secret-three' } })
  t.equal(wrong.statusCode, 401)
  t.match(wrong.json(), { code: 'GW_UNAUTHORIZED', message: 'invalid API key' })

  const basic = await app.inject({ method: 'GET', url: '/openapi.json', headers: { authorization: 'Basic c2VjcmV0LW9uZQ==' } })
  t.equal(basic.statusCode, 401)

  for (const key of ['secret-one', 'secret-two']) {
    const right = await app.inject({ method: 'GET', url: '/openapi.json', headers: { authorization: `Bearer ${key}` } })
    t.equal(right.statusCode, 200, `key ${key} accepted`)
  }
  const live = await app.inject({ method: 'GET', url: '/health/live' })
  t.equal(live.statusCode, 200)
  const unknown = await app.inject({ method: 'GET', url: '/nope' })
  t.equal(unknown.statusCode, 401, 'unknown routes do not reveal themselves without a key')
})

t.test('without API_KEYS the gateway runs open', async t => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(res.statusCode, 200)
})
