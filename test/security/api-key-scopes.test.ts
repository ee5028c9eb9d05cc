/**
 * API keys with scopes (issue 12, item 3), on a real app: a key without a route's scope gets 403
 * GW_FORBIDDEN naming the scope; a key limited to topic globs gets 403 naming the topic it may not use
 * (in the path or the body); plain keys pass everywhere; missing and wrong keys stay 401; every
 * documented route has a decided scope.
 */
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { ROUTE_SCOPES } from '../../src/http/scopes.js'
import { build, uniqueName } from '../helpers/build.js'
import { errorShapeProblem, type ErrorBody } from '../helpers/error-shape.js'

const KEYS = {
  plain: `plain-${uniqueName('k')}`,
  produce: `p-${uniqueName('k')}`,
  consume: `c-${uniqueName('k')}`,
  admin: `a-${uniqueName('k')}`,
  orders: `o-${uniqueName('k')}`
}
const API_KEYS = `${KEYS.plain};${KEYS.produce}:produce;${KEYS.consume}:consume;${KEYS.admin}:admin;${KEYS.orders}:*:orders.*,audit`

type Method = 'GET' | 'POST' | 'DELETE'
interface Call { method: Method, url: string, payload?: object, scope: 'produce' | 'consume' | 'admin', namesTopic?: true }

/** One request per scoped route, naming topics that do not exist (so passing the check answers 404 or 400, never changes anything). */
function calls (absent: string): Call[] {
  const group = { g: { isPartitionAssign: false, topics: [{ name: absent }], webhook: { url: 'http://127.0.0.1:9/' } } }
  return [
    { method: 'POST', url: '/messages', payload: { topic: absent, value: 'x' }, scope: 'produce', namesTopic: true },
    { method: 'POST', url: '/consumer-groups', payload: group, scope: 'consume', namesTopic: true },
    { method: 'GET', url: '/consumer-groups', scope: 'consume' },
    { method: 'GET', url: '/consumer-groups/some-group', scope: 'consume' },
    { method: 'GET', url: '/consumers', scope: 'consume' },
    { method: 'DELETE', url: `/consumers?groupId=${uniqueName('absent')}`, scope: 'admin' },
    { method: 'GET', url: '/topics', scope: 'consume' },
    { method: 'POST', url: '/topics', payload: { name: absent, replicationFactor: 999 }, scope: 'admin', namesTopic: true },
    { method: 'GET', url: `/topics/${absent}`, scope: 'consume', namesTopic: true },
    { method: 'DELETE', url: `/topics/${absent}`, scope: 'admin', namesTopic: true },
    { method: 'GET', url: `/topics/${absent}/partitions/0/offsets`, scope: 'consume', namesTopic: true },
    { method: 'GET', url: `/topics/${absent}/partitions/0/records`, scope: 'consume', namesTopic: true }
  ]
}

const send = async (app: FastifyInstance, c: Omit<Call, 'scope'>, key: string | undefined): Promise<{ status: number, body: ErrorBody, raw: string }> => {
  const res = await app.inject({ method: c.method, url: c.url, headers: key === undefined ? {} : { authorization: `Bearer ${key}` }, ...(c.payload !== undefined ? { payload: c.payload } : {}) })
  return { status: res.statusCode, body: (res.statusCode >= 400 ? res.json() : {}) as ErrorBody, raw: res.body }
}

t.test('a key lacking the route\'s scope: 403 naming the scope; with it: past the check', async t => {
  const app = await build(t, { API_KEYS })
  for (const c of calls(`orders.${uniqueName('absent')}`)) {
    for (const scope of ['produce', 'consume', 'admin'] as const) {
      const what = `${c.method} ${c.url.split('?')[0] ?? ''} with a ${scope} key`
      const res = await send(app, c, KEYS[scope])
      if (scope !== c.scope) {
        t.equal(res.status, 403, `${what}: 403`)
        t.equal(errorShapeProblem(403, res.raw, 'application/json'), undefined, 'in the error shape')
        t.match(res.body, { code: 'GW_FORBIDDEN', error: 'Forbidden', message: new RegExp(`lacks the "${c.scope}" scope`), details: [{ field: 'header/authorization', rule: 'scope', scope: c.scope }] }, what)
      } else {
        t.not(res.status, 403, `${what}: ${res.status}, not refused`)
        t.not(res.status, 401)
      }
    }
    for (const key of [KEYS.plain, KEYS.orders]) {
      const res = await send(app, c, key)
      t.ok(res.status !== 401 && res.status !== 403, `${c.method} ${c.url.split('?')[0] ?? ''}: a ${key === KEYS.plain ? 'plain' : 'all-scopes'} key passes (${res.status})`)
    }
  }
  for (const key of [undefined, 'wrong', `${KEYS.produce}:produce`]) {
    const res = await send(app, { method: 'GET', url: '/topics' }, key)
    t.equal(res.status, 401, `401 unchanged (${key === undefined ? 'no key' : 'a wrong key'})`)
    t.match(res.body, { code: 'GW_UNAUTHORIZED' })
  }
  t.equal((await send(app, { method: 'GET', url: '/metrics' }, KEYS.produce)).status, 200, 'metrics take any valid key')
  t.equal((await send(app, { method: 'GET', url: '/openapi.json' }, KEYS.consume)).status, 200, 'the document takes any valid key')
  t.equal((await send(app, { method: 'GET', url: '/health/ready' }, undefined)).status, 200, 'health takes none')
})

t.test('a key limited to topic globs: 403 naming the topic, in the path or the body', async t => {
  const app = await build(t, { API_KEYS })
  const other = uniqueName('payments')
  for (const c of calls(other).filter(x => x.namesTopic === true)) {
    const res = await send(app, c, KEYS.orders)
    t.equal(res.status, 403, `${c.method} ${c.url}: 403`)
    t.match(res.body, { code: 'GW_FORBIDDEN', message: new RegExp(`may not use topic "${other}" \\(its topics: orders\\.\\*, audit\\)`), details: [{ rule: 'topicScope', topic: other }] })
    const field = res.body.details?.[0]?.field
    t.ok(field === 'params/topic' || field === 'body/topic' || field === 'body/name' || field === 'body/g/topics/0/name', `names the field (${String(field)})`)
  }
  const dlq = await send(app, { method: 'POST', url: '/consumer-groups', payload: { g: { isPartitionAssign: false, topics: [{ name: 'orders.x' }], webhook: { url: 'http://127.0.0.1:9/', deadLetterTopic: other } } } }, KEYS.orders)
  t.match(dlq, { status: 403, body: { details: [{ field: 'body/g/webhook/deadLetterTopic', topic: other }] } }, 'an explicit dead-letter topic is a topic the key writes to')
  for (const topic of ['audit', `orders.${uniqueName('absent')}`]) {
    const res = await send(app, { method: 'POST', url: '/messages', payload: { topic, value: 'x' } }, KEYS.orders)
    t.equal(res.status, 404, `${topic}: allowed by the globs (404: it does not exist)`)
  }
  t.equal((await send(app, { method: 'POST', url: '/messages', payload: { topic: 'ordersX', value: 'x' } }, KEYS.orders)).status, 403, '"orders.*" needs the dot')
  t.equal((await send(app, { method: 'POST', url: '/messages', payload: { topic: 'audit2', value: 'x' } }, KEYS.orders)).status, 403, 'a glob without * is the whole name')
  t.equal((await send(app, { method: 'POST', url: '/messages', payload: { topic: other, value: 'x' } }, KEYS.plain)).status, 404, 'a plain key may use every topic')
  const body = await send(app, { method: 'POST', url: '/messages', payload: { topic: 7, value: 'x' } }, KEYS.orders)
  t.equal(body.status, 400, 'a body that is not valid is refused by validation first')
})

t.test('every documented route has a decided scope (or is open: health)', async t => {
  const app = await build(t)
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { description?: string }>> }
  for (const [path, methods] of Object.entries(doc.paths)) {
    if (path.startsWith('/health/')) continue
    for (const [method, op] of Object.entries(methods)) {
      const key = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`
      const policy = ROUTE_SCOPES[key]
      t.ok(policy, `${key} has a scope`)
      t.match(op.description, `\`${policy?.scope ?? '?'}\` scope`, `${key}: its description says which`)
    }
  }
})
