/**
 * The API document declares bearer auth (issue 12, item 4) so Swagger UI's Authorize button sends
 * `Authorization: Bearer <key>`; with DOCS_PUBLIC=true the document and Swagger UI need no key (every
 * other route still does), without it they need one like everything else.
 */
import t from 'tap'
import { build } from '../helpers/build.js'

const KEY = 'docs-test-key'
const DOCS = ['/openapi.json', '/docs', '/docs/', '/docs/json', '/docs/static/index.html']

t.test('the document declares a bearer scheme, required everywhere but health', async t => {
  const app = await build(t)
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
    components: { securitySchemes: Record<string, unknown> }, security: unknown, paths: Record<string, Record<string, { security?: unknown }>>
  }
  t.match(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer' })
  t.same(doc.security, [{ bearerAuth: [] }], 'global security: the Authorize button applies to every operation')
  t.same(doc.paths['/health/live']?.get?.security, [], 'health needs no key')
  t.equal(doc.paths['/topics']?.get?.security, undefined, 'others inherit the global requirement')
})

t.test('DOCS_PUBLIC=true: the document and Swagger UI without a key; the rest still needs one', async t => {
  const app = await build(t, { API_KEYS: KEY, DOCS_PUBLIC: 'true' })
  for (const url of DOCS) {
    const res = await app.inject({ method: 'GET', url })
    t.ok(res.statusCode === 200 || res.statusCode === 302, `${url}: ${res.statusCode} without a key`)
  }
  t.match((await app.inject({ method: 'GET', url: '/docs/' })).headers['content-type'], /text\/html/, 'Swagger UI')
  for (const url of ['/topics', '/metrics', '/consumers', '/docsx', '/openapi.jsonx']) {
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 401, `${url}: still 401`)
  }
  t.equal((await app.inject({ method: 'GET', url: '/topics', headers: { authorization: `Bearer ${KEY}` } })).statusCode, 200, 'the key still works')
})

t.test('DOCS_PUBLIC unset (the default): the document and Swagger UI need a key', async t => {
  const app = await build(t, { API_KEYS: KEY })
  for (const url of DOCS) {
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 401, `${url}: 401 without a key`)
    const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${KEY}` } })
    t.ok(res.statusCode === 200 || res.statusCode === 302, `${url}: ${res.statusCode} with it`)
  }
})
