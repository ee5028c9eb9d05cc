/**
 * Security (issue 8, item 3): API keys. Every route but /health/* needs `Authorization: Bearer <key>`;
 * missing and wrong keys get 401 in the error shape with `www-authenticate: Bearer`, before the body is
 * read; keys are compared through equal-length digests, all of them, with no early exit.
 */
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { connect, type AddressInfo } from 'node:net'
import { matchesApiKey } from '../../src/http/auth.js'
import { build } from '../helpers/build.js'
import { errorShapeProblem, type ErrorBody } from '../helpers/error-shape.js'

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

t.test('matchesApiKey: equal-length digests, every key compared, no early exit', async t => {
  const keys = ['alpha-key', 'b', 'a much longer third key with spaces and ünïcödé 😀']
  const digests = keys.map(digest)
  t.ok(digests.every(d => d.length === 32), 'keys are kept as 32-byte SHA-256 digests, whatever their length')

  for (const k of keys) t.ok(matchesApiKey(k, digests), `accepts ${JSON.stringify(k.slice(0, 12))}`)
  // presented values of every length: a plain timingSafeEqual on raw strings would throw on unequal lengths
  for (const presented of ['', 'a', 'alpha-ke', 'alpha-keyy', 'ALPHA-KEY', 'x'.repeat(1_000_000), '\u0000', '😀', keys.join(',')]) {
    t.notOk(matchesApiKey(presented, digests), `refuses a ${presented.length}-character value without throwing`)
  }
  t.throws(() => matchesApiKey('alpha-key', [Buffer.alloc(16)]), RangeError,
    'the comparison is timingSafeEqual, which needs equal lengths: the presented key is hashed to the digests\' length')

  // count the digests read: a match on the first key must still compare the others
  const reads = (presented: string): number[] => {
    const seen: number[] = []
    const spy = new Proxy(digests, {
      get (target, prop, receiver) {
        if (typeof prop === 'string' && /^\d+$/.test(prop)) seen.push(Number(prop))
        return Reflect.get(target, prop, receiver) as unknown
      }
    })
    matchesApiKey(presented, spy)
    return seen
  }
  t.same(reads('alpha-key'), [0, 1, 2], 'a match on the first key still reads every key')
  t.same(reads('b'), [0, 1, 2], 'a match in the middle reads every key')
  t.same(reads('nope'), [0, 1, 2], 'no match reads every key')
})

const KEY_ONE = `key-one-${randomBytes(8).toString('hex')}`
const KEY_TWO = `k2-${randomBytes(16).toString('base64url')}`

/** Every route but health, with a plausible request for each (bodies included). */
const PROTECTED: Array<{ method: 'GET' | 'POST' | 'DELETE' | 'HEAD' | 'OPTIONS' | 'PUT', url: string, payload?: string }> = [
  { method: 'POST', url: '/messages', payload: JSON.stringify({ topic: 'security-absent', value: 'x' }) },
  { method: 'POST', url: '/consumer-groups', payload: JSON.stringify({ g: { isPartitionAssign: false, topics: [{ name: 'security-absent' }], webhook: { url: 'http://127.0.0.1:9/' } } }) },
  { method: 'GET', url: '/consumer-groups' },
  { method: 'GET', url: '/consumer-groups/some-group' },
  { method: 'GET', url: '/consumers' },
  { method: 'GET', url: '/consumers?groupId=g' },
  { method: 'DELETE', url: '/consumers?groupId=g' },
  { method: 'DELETE', url: '/consumers?all=true' },
  { method: 'GET', url: '/openapi.json' },
  { method: 'GET', url: '/metrics' },
  { method: 'GET', url: '/docs' },
  { method: 'GET', url: '/docs/json' },
  { method: 'HEAD', url: '/consumers' },
  { method: 'OPTIONS', url: '/messages' },
  { method: 'PUT', url: '/messages' },
  { method: 'GET', url: '/no-such-route' },
  { method: 'GET', url: '/health' },
  { method: 'GET', url: '/health/nope' },
  { method: 'GET', url: '/topics' },
  { method: 'POST', url: '/topics', payload: JSON.stringify({ name: 'security-absent' }) },
  { method: 'GET', url: '/topics/security-absent' },
  { method: 'DELETE', url: '/topics/security-absent' },
  { method: 'GET', url: '/topics/security-absent/partitions/0/offsets' },
  { method: 'GET', url: '/topics/security-absent/partitions/0/records' }
]

const WRONG: Array<string | undefined> = [
  undefined, '', ' ', 'Bearer', 'Bearer ', `Bearer ${KEY_ONE}x`, `Bearer ${KEY_ONE.slice(0, -1)}`, `Bearer ${KEY_ONE.toUpperCase()}`,
  `Bearer x${KEY_ONE}`, `Basic ${Buffer.from(`user:${KEY_ONE}`).toString('base64')}`, `Basic ${Buffer.from(KEY_ONE).toString('base64')}`,
  `Token ${KEY_ONE}`, KEY_ONE, `Bearer ${KEY_ONE},${KEY_TWO}`, `Bearer ${KEY_ONE} ${KEY_TWO}`, `Bearer ${KEY_ONE} extra`,
  `Bearer "${KEY_ONE}"`, `Bearer ${'k'.repeat(10_000)}`, `Bearer ${KEY_ONE}\u0000`
]

t.test('missing and wrong keys: 401 in the error shape on every route but health', async t => {
  const app = await build(t, { API_KEYS: `${KEY_ONE}, ${KEY_TWO}` })
  let checked = 0
  for (const route of PROTECTED) {
    for (const authorization of WRONG) {
      const res = await app.inject({
        method: route.method,
        url: route.url,
        headers: { ...(authorization !== undefined ? { authorization } : {}), ...(route.payload !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(route.payload !== undefined ? { payload: route.payload } : {})
      })
      const what = `${route.method} ${route.url} with ${authorization === undefined ? 'no Authorization' : JSON.stringify(authorization.slice(0, 40))}`
      checked++
      if (res.statusCode !== 401) { t.fail(`${what}: ${res.statusCode}, not 401`); continue }
      if (res.headers['www-authenticate'] !== 'Bearer') t.fail(`${what}: www-authenticate is ${String(res.headers['www-authenticate'])}`)
      if (route.method === 'HEAD') continue
      const problem = errorShapeProblem(401, res.body, res.headers['content-type'])
      if (problem !== undefined) { t.fail(`${what}: ${problem}`); continue }
      const body = res.json() as ErrorBody
      if (body.code !== 'GW_UNAUTHORIZED' || body.error !== 'Unauthorized') t.fail(`${what}: ${res.body}`)
      if (body.details?.[0]?.field !== 'header/authorization') t.fail(`${what}: details do not name header/authorization`)
      const expected = authorization === undefined || authorization === '' ? /missing Authorization/ : /invalid API key/
      if (!expected.test(body.message)) t.fail(`${what}: message ${body.message}`)
      if (authorization !== undefined && authorization.length > 8 && res.body.includes(authorization.slice(7))) t.fail(`${what}: the presented value is echoed`)
      if (res.body.includes(KEY_ONE) || res.body.includes(KEY_TWO)) t.fail(`${what}: a configured key is echoed`)
    }
  }
  t.pass(`${checked} unauthenticated requests on ${PROTECTED.length} routes: 401 GW_UNAUTHORIZED, www-authenticate: Bearer, nothing echoed`)

  for (const key of [KEY_ONE, KEY_TWO]) {
    for (const form of [`Bearer ${key}`, `bearer ${key}`, `BEARER   ${key}`, `Bearer ${key}  `]) {
      for (const route of PROTECTED.slice(0, 10)) {
        const res = await app.inject({
          method: route.method,
          url: route.url,
          headers: { authorization: form, ...(route.payload !== undefined ? { 'content-type': 'application/json' } : {}) },
          ...(route.payload !== undefined ? { payload: route.payload } : {})
        })
        if (res.statusCode === 401) t.fail(`${route.method} ${route.url} refused ${JSON.stringify(form.slice(0, 12))}…`)
      }
    }
  }
  t.pass('both keys, in every accepted form (scheme case, extra spaces), pass on every route')

  for (const url of ['/health/live', '/health/ready']) {
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${KEY_ONE}`]) {
      const res = await app.inject({ method: 'GET', url, headers: authorization !== undefined ? { authorization } : {} })
      t.equal(res.statusCode, 200, `${url} is open (${authorization === undefined ? 'no key' : authorization === 'Bearer wrong' ? 'a wrong key' : 'the right key'})`)
    }
  }
})

t.test('the key is checked before the body is read: no parsing, no size error, no produce without a key', async t => {
  const app = await build(t, { API_KEYS: KEY_ONE, BODY_LIMIT_BYTES: '2048' })
  const cases = [
    { name: 'invalid JSON', payload: '{"topic":', type: 'application/json' },
    { name: 'over the body limit', payload: JSON.stringify({ topic: 'x', value: 'v'.repeat(10_000) }), type: 'application/json' },
    { name: 'a wrong content type', payload: '<xml/>', type: 'application/xml' },
    { name: '10 000 levels of nesting', payload: `{"topic":"x","value":${'['.repeat(10_000)}${']'.repeat(10_000)}}`, type: 'application/json' }
  ]
  for (const c of cases) {
    const res = await app.inject({ method: 'POST', url: '/messages', headers: { 'content-type': c.type, authorization: 'Bearer wrong' }, payload: c.payload })
    t.equal(res.statusCode, 401, `${c.name}: 401, not a body error`)
  }
})

t.test('over a real socket: path tricks do not turn a protected route into a health probe', async t => {
  const app = await build(t, { API_KEYS: KEY_ONE })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  const exchange = (path: string, authorization?: string): Promise<string> => new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n${authorization !== undefined ? `Authorization: ${authorization}\r\n` : ''}Connection: close\r\n\r\n`)
    })
    const chunks: Buffer[] = []
    socket.on('data', c => chunks.push(c))
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    socket.on('error', reject)
  })
  for (const path of ['/health/../consumers', '/health/%2e%2e/consumers', '/health/..%2fconsumers', '/health/live/../../consumer-groups', '/health//../openapi.json', '/health/x/../../metrics', '/health/', '/health/live/x']) {
    const answer = await exchange(path)
    t.match(answer, /^HTTP\/1\.1 401 /, `${path}: 401 without a key`)
    t.match(answer, /\r\nwww-authenticate: Bearer\r\n/i, `${path}: www-authenticate: Bearer`)
  }
  t.match(await exchange('/health/live'), /^HTTP\/1\.1 200 /, '/health/live stays open')
  // Node keeps the first of repeated Authorization headers: a wrong one first is refused
  const dup = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET /consumers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\nAuthorization: Bearer ${KEY_ONE}\r\nConnection: close\r\n\r\n`)
    })
    const chunks: Buffer[] = []
    socket.on('data', c => chunks.push(c))
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    socket.on('error', reject)
  })
  t.match(dup, /^HTTP\/1\.1 401 /, 'a wrong key followed by the right one is refused')
})
