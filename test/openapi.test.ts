import t from 'tap'
import { readFile } from 'node:fs/promises'
import { generateOpenapi, OPENAPI_PATH } from '../scripts/gen-openapi.js'
import { build } from './helpers/build.js'

t.test('the committed OpenAPI document matches the route schemas (run `npm run openapi` when this fails)', async t => {
  const committed = await readFile(OPENAPI_PATH, 'utf8')
  const generated = await generateOpenapi()
  t.equal(committed, generated, 'openapi/openapi.json is stale')
})

t.test('the document is served at /openapi.json and Swagger UI at /docs', async t => {
  const app = await build(t)
  const doc = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(doc.statusCode, 200)
  const json = doc.json()
  t.equal(json.openapi, '3.0.3')
  t.ok(json.paths['/health/ready'], 'health route documented')
  const ui = await app.inject({ method: 'GET', url: '/docs/' })
  t.equal(ui.statusCode, 200)
  t.match(ui.headers['content-type'], /text\/html/)
})
