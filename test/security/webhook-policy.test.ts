/**
 * Security (issue 8, item 3): what a consumer group's webhook may point at and send. Disallowed schemes,
 * credentials in the URL and hosts outside WEBHOOK_ALLOWED_HOSTS (names, wildcards, CIDR blocks) are
 * refused with 400 naming `body/<group>/webhook/url`; CR, LF and NUL in custom header names or values,
 * and headers the gateway sets itself, are refused naming the header. Nothing is stored: a URL that
 * passes reaches the next check (the topic, which does not exist: 404).
 */
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, uniqueName } from '../helpers/build.js'
import { errorShapeProblem, type ErrorBody } from '../helpers/error-shape.js'

const ALLOWED = 'hooks.example.com,*.allowed.test,10.0.0.0/8,127.0.0.1,fd00::/8'
const ABSENT_TOPIC = 'security-absent-topic'

async function define (app: FastifyInstance, groupId: string, webhook: Record<string, unknown>): Promise<{ status: number, body: ErrorBody, raw: string }> {
  const res = await app.inject({
    method: 'POST',
    url: '/consumer-groups',
    payload: { [groupId]: { isPartitionAssign: false, topics: [{ name: ABSENT_TOPIC }], webhook } }
  })
  const problem = res.statusCode >= 400 ? errorShapeProblem(res.statusCode, res.body, res.headers['content-type']) : undefined
  if (problem !== undefined) throw new Error(`not the error shape: ${problem}`)
  return { status: res.statusCode, body: res.json() as ErrorBody, raw: res.body }
}

const refusedAt = (body: ErrorBody, field: string): boolean => body.details?.some(d => d.field === field) === true

t.test('webhook URLs: schemes, credentials and the host allow-list', async t => {
  const app = await build(t, { WEBHOOK_ALLOWED_HOSTS: ALLOWED })
  const gid = uniqueName('sec')
  const urlField = `body/${gid}/webhook/url`

  const schemes = ['file:///etc/passwd', 'ftp://hooks.example.com/x', 'javascript:alert(1)', 'data:text/plain;base64,SGk=',
    'gopher://hooks.example.com:70/_x', 'ws://hooks.example.com/', 'wss://hooks.example.com/', 'ldap://hooks.example.com/', 'mailto:a@hooks.example.com', 'about:blank']
  for (const url of schemes) {
    const { status, body } = await define(app, gid, { url })
    t.equal(status, 400, `${url}: 400`)
    t.ok(refusedAt(body, urlField) && /scheme must be http or https/.test(body.message), `${url}: refused at ${urlField} for its scheme`)
  }

  const credentials = ['http://user:p4ssw0rd-xyz@hooks.example.com/h', 'https://user@hooks.example.com/', 'http://:p4ssw0rd-xyz@hooks.example.com/',
    'http://hooks.example.com:80@evil.test/']
  for (const url of credentials) {
    const { status, body, raw } = await define(app, gid, { url })
    t.equal(status, 400, `${url}: 400`)
    t.ok(refusedAt(body, urlField) && /credentials/.test(body.message), `${url}: refused for credentials`)
    t.notOk(raw.includes('p4ssw0rd-xyz'), `${url}: the password is not echoed`)
  }

  const outside = [
    'http://evil.test/', 'https://allowed.test/', 'http://hooks.example.com.evil.test/', 'http://evilhooks.example.com/',
    'http://a.allowed.test.evil.test/', 'http://allowed.test.evil.test/', 'http://example.com/', 'http://11.0.0.1/', 'http://9.255.255.255/',
    'http://127.0.0.2/', 'http://0x7f.0.0.2/', 'http://2130706434/', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/',
    'http://[fe80::1]/', 'http://[fc00::1]/', 'http://localhost/', 'http://evil.test\\@hooks.example.com/', 'http://evil.test#@hooks.example.com/',
    'http://evil.test/?@hooks.example.com', 'http://0.0.0.0/', 'http://[::ffff:11.0.0.1]/', 'http://[::ffff:7f00:2]/', 'http://[::a00:1]/'
  ]
  for (const url of outside) {
    const { status, body } = await define(app, gid, { url })
    t.equal(status, 400, `${url}: 400`)
    // cloud metadata and link-local addresses are refused before the allow-list is consulted
    const rule = /^http:\/\/(169\.254\.|\[fe80:)/.test(url) ? /blocked address/ : /not in the allowed hosts/
    t.ok(refusedAt(body, urlField) && rule.test(body.message), `${url}: refused (${body.message})`)
  }

  // blocked whatever the allow-list says: even a list admitting 169.254.0.0/16 cannot reach the metadata service
  const open = await build(t, { WEBHOOK_ALLOWED_HOSTS: '169.254.0.0/16,fe80::/10,100.100.100.200' })
  for (const url of ['http://169.254.169.254/latest/meta-data', 'http://[fe80::1]/', 'http://100.100.100.200/', 'http://[::ffff:169.254.169.254]/']) {
    const { status, body } = await define(open, gid, { url })
    t.equal(status, 400, `${url}: 400`)
    t.ok(refusedAt(body, urlField) && /blocked address/.test(body.message), `${url}: a blocked address despite the allow-list (${body.message})`)
  }

  // inside the allow-list: the URL passes, and the request fails on the next check (the topic does not exist)
  const inside = ['http://hooks.example.com/h', 'https://HOOKS.EXAMPLE.COM./h', 'http://a.allowed.test/', 'https://a.b.allowed.test:8443/x?y=1',
    'http://10.1.2.3:8080/', 'http://10.255.255.255/', 'http://127.0.0.1:9/hook', 'http://2130706433/', 'http://[fd00::1]/', 'http://[fdff:ffff::1]:8080/',
    'http://[::ffff:10.0.0.1]/', 'http://[::ffff:127.0.0.1]:9/']
  for (const url of inside) {
    const { status, body } = await define(app, gid, { url })
    t.equal(status, 404, `${url}: allowed, then 404 for the absent topic (${body.code}: ${body.message.slice(0, 80)})`)
    t.equal(body.code, 'GW_TOPIC_NOT_FOUND', `${url}: passed the URL policy`)
  }

  // several groups at once: every problem is named
  const other = uniqueName('sec')
  const res = await app.inject({
    method: 'POST',
    url: '/consumer-groups',
    payload: {
      [gid]: { isPartitionAssign: false, topics: [{ name: ABSENT_TOPIC }], webhook: { url: 'file:///etc/passwd' } },
      [other]: { isPartitionAssign: false, topics: [{ name: ABSENT_TOPIC }], webhook: { url: 'http://evil.test/' } }
    }
  })
  t.equal(res.statusCode, 400)
  const both = res.json() as ErrorBody
  t.ok(refusedAt(both, urlField) && refusedAt(both, `body/${other}/webhook/url`), 'both groups\' URLs are named')

  const groups = await app.inject({ method: 'GET', url: '/consumer-groups' })
  t.same(groups.json(), { groups: [] }, 'nothing was stored')
})

t.test('custom webhook headers: CR, LF, NUL and reserved names are refused, values never echoed', async t => {
  const app = await build(t)
  const gid = uniqueName('sec')
  const secretValue = `Bearer s3cr3t-${uniqueName('v')}`

  const badNames = ['X-Evil\r\nInjected', 'X-Evil\nInjected', 'X-Evil\rA', 'X-Nul\u0000', 'X Space', 'X:Colon', '', 'X-Tab\t', 'Ünïcode', '(x)']
  for (const name of badNames) {
    const { status, body } = await define(app, gid, { url: 'http://127.0.0.1:9/hook', headers: { [name]: 'ok' } })
    t.equal(status, 400, `name ${JSON.stringify(name)}: 400`)
    t.ok(refusedAt(body, `body/${gid}/webhook/headers/${name}`), `name ${JSON.stringify(name)}: the header is named`)
  }

  const badValues = [`${secretValue}\r\nInjected: yes`, `${secretValue}\nInjected: yes`, `${secretValue}\rx`, `${secretValue}\u0000`, `${secretValue}\u0007`, `${secretValue}\u007f`, `\r\n\r\nPOST /x HTTP/1.1${secretValue}`]
  for (const [i, value] of badValues.entries()) {
    const { status, body, raw } = await define(app, gid, { url: 'http://127.0.0.1:9/hook', headers: { Authorization: value } })
    t.equal(status, 400, `value ${i} (${JSON.stringify(value.slice(-12))}): 400`)
    t.ok(refusedAt(body, `body/${gid}/webhook/headers/Authorization`) && /must not contain CR, LF, NUL/.test(body.message), `value ${i}: refused naming the header`)
    t.notOk(raw.includes(secretValue.slice(7)), `value ${i}: the value is not echoed`)
  }

  const reserved = ['webhook-id', 'Webhook-Signature', 'WEBHOOK-TIMESTAMP', 'content-type', 'Content-Length', 'content-encoding', 'transfer-encoding',
    'Host', 'user-agent', 'connection', 'keep-alive', 'upgrade', 'expect', 'te', 'trailer', 'proxy-connection']
  for (const name of reserved) {
    const { status, body } = await define(app, gid, { url: 'http://127.0.0.1:9/hook', headers: { [name]: 'x' } })
    t.equal(status, 400, `${name}: 400`)
    t.ok(refusedAt(body, `body/${gid}/webhook/headers/${name}`) && /set by the gateway/.test(body.message), `${name}: refused as set by the gateway`)
  }

  const dup = await define(app, gid, { url: 'http://127.0.0.1:9/hook', headers: { 'X-Token': 'a', 'x-token': 'b' } })
  t.equal(dup.status, 400, 'the same header twice (case-insensitive): 400')

  const badSecrets = [`not-a-secret-${secretValue}`, 'whsec_c2hvcnQ=', `whsec_${secretValue}`]
  for (const [i, secret] of badSecrets.entries()) {
    const { status, body, raw } = await define(app, gid, { url: 'http://127.0.0.1:9/hook', secrets: [secret] })
    t.equal(status, 400, `malformed secret ${i}: 400`)
    t.ok(refusedAt(body, `body/${gid}/webhook/secrets/0`), `malformed secret ${i}: named`)
    t.notOk(raw.includes(secretValue.slice(7)) || raw.includes('c2hvcnQ'), `malformed secret ${i}: not echoed`)
  }

  const good = await define(app, gid, { url: 'http://127.0.0.1:9/hook', headers: { Authorization: secretValue, 'X-Obs-Text': 'caf\u00e9', 'X-Tab': 'a\tb' } })
  t.equal(good.status, 404, 'legal headers pass (then 404 for the absent topic)')
})
