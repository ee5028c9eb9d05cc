import t from 'tap'
import {
  DEFAULT_BLOCKED_ADDRESSES, addressBlocked, allowListEntryProblem, blockedEntryProblem, guardedLookup, headerProblem, headersProblem, hostAllowed, webhookUrlProblem
} from '../../src/webhooks/url-policy.js'

t.test('schemes: http and https only', async t => {
  t.equal(webhookUrlProblem('http://example.com/hook', []), undefined)
  t.equal(webhookUrlProblem('https://example.com:8443/hook?x=1', []), undefined)
  for (const u of ['file:///etc/passwd', 'ftp://example.com/x', 'javascript:alert(1)', 'data:text/plain,hi', 'ws://example.com', 'gopher://x']) {
    t.match(webhookUrlProblem(u, []), /http or https/, u)
  }
  t.match(webhookUrlProblem('/relative', []), /absolute URL/)
  t.match(webhookUrlProblem('not a url', []), /absolute URL/)
  t.match(webhookUrlProblem(`https://example.com/${'a'.repeat(3000)}`, []), /at most/)
})

t.test('no credentials in the URL', async t => {
  t.match(webhookUrlProblem('https://user:pass@example.com/', []), /credentials/)
  t.match(webhookUrlProblem('https://user@example.com/', []), /credentials/)
})

t.test('allow-list: names, wildcards, IPs and CIDRs', async t => {
  const allow = ['hooks.example.com', '*.internal.example', '10.0.0.0/8', '127.0.0.1/32', 'fd00::/8', '::1', '192.168.1.7']
  const ok = ['https://hooks.example.com/x', 'https://HOOKS.example.com./x', 'http://a.internal.example/', 'http://a.b.internal.example/',
    'http://10.1.2.3:8080/', 'http://127.0.0.1:9/', 'http://[fd12::1]/', 'http://[::1]:80/', 'http://192.168.1.7/', 'http://[::ffff:10.0.0.1]/', 'http://167772161/']
  for (const u of ok) t.equal(webhookUrlProblem(u, allow), undefined, u)
  const refused = ['https://example.com/', 'https://evilhooks.example.com/', 'http://internal.example/', 'http://xinternal.example/',
    'http://11.0.0.1/', 'http://127.0.0.2/', 'http://[fe80::1]/', 'http://192.168.1.8/', 'http://localhost/']
  for (const u of refused) t.match(webhookUrlProblem(u, allow), /not in the allowed hosts/, u)
  t.equal(webhookUrlProblem('http://anything.test/', []), undefined, 'an empty list allows every host')
  t.equal(hostAllowed('[::1]', ['::1']), true)
  t.equal(hostAllowed('example.com', ['bad entry!!']), false, 'a list of only invalid entries allows nothing')
})

t.test('allow-list entry validation', async t => {
  for (const e of ['example.com', '*.example.com', '10.0.0.0/8', '0.0.0.0/0', 'fd00::/8', '::1', '1.2.3.4', 'a_b.example']) t.equal(allowListEntryProblem(e), undefined, e)
  for (const e of ['', '10.0.0.0/33', 'fd00::/129', 'x.y/8', 'exa mple.com', '*.', 'http://example.com', '-bad.com']) t.type(allowListEntryProblem(e), 'string', e)
})

t.test('headers: token names, no CR/LF/NUL, reserved names refused, values never echoed', async t => {
  t.equal(headerProblem('Authorization', 'Bearer abc.def'), undefined)
  t.equal(headerProblem('X-Api-Key', 'k\tv é'), undefined)
  t.match(headerProblem('X-Evil', 'a\r\nInjected: yes'), /CR, LF, NUL/)
  t.match(headerProblem('X-Evil', 'a\nb'), /CR, LF, NUL/)
  t.match(headerProblem('X-Evil', 'a\u0000b'), /CR, LF, NUL/)
  t.match(headerProblem('X-Evil', 'a\u2028b'), /control characters/)
  for (const bad of ['', 'Bad Name', 'a:b', 'x\r\ny', 'é', '(x)']) t.match(headerProblem(bad, 'v'), /HTTP token/, JSON.stringify(bad))
  for (const r of ['webhook-id', 'Webhook-Timestamp', 'webhook-signature', 'Content-Type', 'content-length', 'Host', 'user-agent', 'transfer-encoding', 'connection']) {
    t.match(headerProblem(r, 'v'), /set by the gateway/, r)
  }
  t.notMatch(headerProblem('X-Evil', 'SECRETTOKEN\r\n') ?? '', /SECRETTOKEN/)
  t.match(headerProblem('X-Long', 'a'.repeat(9000)), /at most/)
})

t.test('headersProblem: every header, duplicates by case, count', async t => {
  t.equal(headersProblem({ Authorization: 'x', 'X-A': 'y' }), undefined)
  t.match(headersProblem({ Authorization: 'x', authorization: 'y' }), /twice/)
  t.match(headersProblem({ ok: 'x', 'bad\n': 'y' }), /token/)
  const many: Record<string, string> = {}
  for (let i = 0; i < 40; i++) many[`x-${i}`] = 'v'
  t.match(headersProblem(many), /at most 32/)
})

t.test('blocked addresses: metadata and link-local by default, IPv4-mapped IPv6 too, whatever the allow-list says', async t => {
  for (const ip of ['169.254.169.254', '169.254.0.1', '[fe80::1]', 'fe80::abcd', '100.100.100.200', 'fd00:ec2::254', '::ffff:169.254.169.254', '[::ffff:a9fe:a9fe]']) {
    t.ok(addressBlocked(ip, DEFAULT_BLOCKED_ADDRESSES), ip)
  }
  for (const ip of ['10.0.0.1', '127.0.0.1', '::1', '192.168.1.1', 'hooks.example.com', '100.100.100.201']) t.notOk(addressBlocked(ip, DEFAULT_BLOCKED_ADDRESSES), ip)
  t.notOk(addressBlocked('169.254.169.254', []), 'an empty list blocks nothing')
  t.match(webhookUrlProblem('http://169.254.169.254/latest/meta-data', [], DEFAULT_BLOCKED_ADDRESSES), /blocked address/)
  t.match(webhookUrlProblem('http://169.254.169.254/x', ['169.254.0.0/16'], DEFAULT_BLOCKED_ADDRESSES), /blocked address/, 'the allow-list cannot admit a blocked address')
  t.equal(webhookUrlProblem('http://10.1.2.3/x', [], DEFAULT_BLOCKED_ADDRESSES), undefined)
  for (const e of ['10.0.0.0/8', '::1', 'fe80::/10']) t.equal(blockedEntryProblem(e), undefined, e)
  for (const e of ['example.com', '*.example.com', '10.0.0.0/33', '']) t.type(blockedEntryProblem(e), 'string', e)
})

t.test('the guarded lookup refuses a name that resolves to a blocked address, in both callback shapes', async t => {
  const lookup = guardedLookup(['127.0.0.0/8', '::1/128'])
  const run = async (all: boolean): Promise<{ err: NodeJS.ErrnoException | null, address: unknown }> => await new Promise(resolve => {
    lookup('localhost', { all }, (err: NodeJS.ErrnoException | null, address: unknown) => { resolve({ err, address }) })
  })
  for (const all of [false, true]) {
    const { err } = await run(all)
    t.equal(err?.code, 'EWEBHOOKBLOCKED', `all: ${String(all)}`)
    t.match(err?.message, /"localhost" resolves to (127\.0\.0\.1|::1), a blocked address/)
  }
  const open = guardedLookup(['10.0.0.0/8'])
  const ok = await new Promise<{ err: NodeJS.ErrnoException | null, address: unknown }>(resolve => {
    open('localhost', { all: true }, (err: NodeJS.ErrnoException | null, address: unknown) => { resolve({ err, address }) })
  })
  t.equal(ok.err, null)
  t.ok(Array.isArray(ok.address) && ok.address.length > 0, 'addresses passed through')
})
