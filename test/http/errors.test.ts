import t, { type Test } from 'tap'
import { Type } from 'typebox'
import { buildApp } from '../../src/app.js'
import { AppError } from '../../src/errors.js'
import { testConfig } from '../helpers/build.js'

// A throwaway route on the real app exercises the one error handler with a real schema.
async function appWithEcho (t: Test): Promise<Awaited<ReturnType<typeof buildApp>>> {
  const app = await buildApp({ config: testConfig({ BODY_LIMIT_BYTES: '2048' }) })
  t.teardown(() => app.close())
  app.post('/echo', {
    schema: {
      body: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 10 }),
        count: Type.Integer({ minimum: 0 }),
        nested: Type.Optional(Type.Object({ flag: Type.Boolean() }, { additionalProperties: false }))
      }, { additionalProperties: false })
    }
  }, async (req) => req.body)
  app.get('/boom', async () => { throw new Error('secret internals') })
  app.get('/conflict', async () => { throw new AppError(409, 'GW_CONFLICT', 'already there') })
  await app.ready()
  return app
}

const SHAPE = { statusCode: Number, error: String, code: String, message: String }

t.test('validation errors name the field and the rule', async t => {
  const app = await appWithEcho(t)
  const cases: Array<[unknown, string, string]> = [
    [{ count: 1 }, 'body/name', 'required'],
    [{ name: '', count: 1 }, 'body/name', 'minLength'],
    [{ name: 'x'.repeat(11), count: 1 }, 'body/name', 'maxLength'],
    [{ name: 'a', count: '1' }, 'body/count', 'type'],
    [{ name: 'a', count: -1 }, 'body/count', 'minimum'],
    [{ name: 'a', count: 1, extra: true }, 'body/extra', 'additionalProperties'],
    [{ name: 'a', count: 1, nested: { flag: 'yes' } }, 'body/nested/flag', 'type']
  ]
  for (const [body, field, rule] of cases) {
    const res = await app.inject({ method: 'POST', url: '/echo', payload: body as object })
    t.equal(res.statusCode, 400, JSON.stringify(body))
    const json = res.json()
    t.match(json, { ...SHAPE, statusCode: 400, error: 'Bad Request', code: 'GW_VALIDATION' })
    t.ok(json.details.some((d: { field: string, rule: string }) => d.field === field && d.rule === rule), `${field} ${rule} in ${JSON.stringify(json.details)}`)
    t.match(json.message, field)
  }
})

t.test('malformed bodies get 4xx in the error shape', async t => {
  const app = await appWithEcho(t)
  const badJson = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"name":' })
  t.equal(badJson.statusCode, 400)
  t.match(badJson.json(), { code: 'GW_VALIDATION', message: /not valid JSON/, details: [{ field: 'body', rule: 'json' }] })

  const empty = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '' })
  t.equal(empty.statusCode, 400)
  t.match(empty.json(), { code: 'GW_VALIDATION' })

  const text = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'text/xml' }, payload: '<a/>' })
  t.equal(text.statusCode, 415)
  t.match(text.json(), { code: 'GW_UNSUPPORTED_MEDIA_TYPE', details: [{ field: 'header/content-type' }] })

  const big = await app.inject({ method: 'POST', url: '/echo', payload: { name: 'a', count: 1, pad: 'x'.repeat(4096) } })
  t.equal(big.statusCode, 413)
  t.match(big.json(), { code: 'GW_PAYLOAD_TOO_LARGE', message: /BODY_LIMIT_BYTES/ })
})

t.test('404, app errors and 500s share the shape; 500 hides internals', async t => {
  const app = await appWithEcho(t)
  const missing = await app.inject({ method: 'GET', url: '/does-not-exist' })
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { ...SHAPE, code: 'GW_NOT_FOUND' })
  const conflict = await app.inject({ method: 'GET', url: '/conflict' })
  t.match(conflict.json(), { statusCode: 409, error: 'Conflict', code: 'GW_CONFLICT', message: 'already there' })
  const boom = await app.inject({ method: 'GET', url: '/boom' })
  t.equal(boom.statusCode, 500)
  t.match(boom.json(), { code: 'GW_INTERNAL', message: 'internal error' })
  t.notMatch(boom.body, /secret internals/)
  t.ok(boom.headers['x-request-id'], 'request id echoed on errors too')
})
