/**
 * API_KEYS with scopes (issue 12, item 3): the format parsed at boot, every bad entry named by position
 * and rule (never by the key), and the server refusing to start (exit 78) on one.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { SCOPES, parseApiKeys } from '../../src/config/api-keys.js'
import { ConfigError, loadConfig } from '../../src/config/env.js'

t.test('plain keys keep today\'s meaning; scoped entries carry scopes and topic globs', async t => {
  t.same(parseApiKeys('k1,k2').keys, [{ key: 'k1', scopes: SCOPES, topics: undefined }, { key: 'k2', scopes: SCOPES, topics: undefined }])
  t.same(parseApiKeys(' k1 , k2 ,k1').keys.map(k => k.key), ['k1', 'k2'], 'spaces and a repeated plain key are harmless, as before')
  t.same(parseApiKeys(undefined), { keys: [], problems: [] })
  const { keys, problems } = parseApiKeys('ops;shop:produce:orders.*\nbilling:consume,produce:orders.*,billing-*  all:*:audit')
  t.same(problems, [])
  t.same(keys, [
    { key: 'ops', scopes: SCOPES, topics: undefined },
    { key: 'shop', scopes: ['produce'], topics: ['orders.*'] },
    { key: 'billing', scopes: ['consume', 'produce'], topics: ['orders.*', 'billing-*'] },
    { key: 'all', scopes: ['produce', 'consume', 'admin'], topics: ['audit'] }
  ], 'entries split on ";", newlines and spaces; "*" is every scope')
  t.same(parseApiKeys('reader:consume').keys, [{ key: 'reader', scopes: ['consume'], topics: undefined }], 'without globs: every topic')
})

t.test('bad entries: named by position and rule, the key never quoted', async t => {
  const secret = 's3cr3t-value'
  const cases: Array<[string, RegExp]> = [
    [`${secret}:produce,k2`, /^API_KEYS: entry 1: unknown scope "k2" \(scopes are produce, consume, admin or \*; separate entries with ";"\)$/],
    [`ok;${secret}:`, /^API_KEYS: entry 2: unknown scope ""/],
    [`${secret}::orders`, /^API_KEYS: entry 1: unknown scope ""/],
    [`:produce`, /^API_KEYS: entry 1: the key before the first colon must not be empty or contain ","$/],
    [`a,${secret}:produce`, /^API_KEYS: entry 1: the key before the first colon must not be empty/],
    [`${secret}:produce:orders:x`, /^API_KEYS: entry 1: has more than two colons \(keys may not contain ":"\)$/],
    [`${secret}:produce:orders/eu`, /^API_KEYS: entry 1: topic glob "orders\/eu" may contain only/],
    [`${secret}:produce:`, /^API_KEYS: entry 1: topic glob "" may contain only/],
    [`${secret};${secret}:admin`, /^API_KEYS: entry 2: repeats a key listed before with other scopes$/],
    [`${secret}:admin ${secret}:admin`, /^API_KEYS: entry 2: repeats a key listed before/]
  ]
  for (const [raw, rule] of cases) {
    const { problems } = parseApiKeys(raw)
    t.equal(problems.length, 1, `${JSON.stringify(raw)}: one problem`)
    t.match(problems[0], rule, JSON.stringify(raw))
    t.notMatch(problems[0], secret, 'the key is not in the message')
  }
  try {
    loadConfig({ API_KEYS: `${secret}:write`, DOCS_PUBLIC: 'sometimes' })
    t.fail('loadConfig accepted a bad entry')
  } catch (err) {
    t.ok(err instanceof ConfigError)
    t.same((err as ConfigError).problems.map(p => p.split(':')[0]), ['API_KEYS', 'DOCS_PUBLIC'], 'reported with the other configuration problems')
  }
  t.equal(loadConfig({ DOCS_PUBLIC: 'true' }).docsPublic, true)
})

t.test('the server exits 78 on a bad API_KEYS entry, without printing the key', async t => {
  const secret = 'do-not-print-me'
  const root = fileURLToPath(new URL('../../', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root, env: { ...process.env, API_KEYS: `${secret}:produce:orders:extra`, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c.toString() })
  child.stderr.on('data', (c: Buffer) => { output += c.toString() })
  const code = await new Promise<number | null>(resolve => child.on('exit', c => resolve(c)))
  t.equal(code, 78, 'EX_CONFIG')
  t.match(output, /API_KEYS: entry 1: has more than two colons/)
  t.notMatch(output, secret)
})
