/**
 * WEBHOOK_CA_FILE, WEBHOOK_CLIENT_CERT_FILE and WEBHOOK_CLIENT_KEY_FILE checked at boot, against
 * certificates made with openssl: unreadable files, a half-configured client certificate, a CA file
 * without certificates and a key that does not match its certificate each name their variable, and the
 * server refuses to start (exit 78).
 */
import t from 'tap'
import { rootCertificates } from 'node:tls'
import { loadConfig } from '../../src/config/env.js'
import { configProblems as problems } from '../helpers/config.js'
import { webhookTlsOptions } from '../../src/config/tls-files.js'
import { spawnGateway } from '../../scripts/lib/launch/gateway.js'
import { makePki } from '../helpers/certs.js'


t.test('webhook TLS files', async t => {
  const pki = await makePki(t)
  const full = { WEBHOOK_CA_FILE: pki.ca, WEBHOOK_CLIENT_CERT_FILE: pki.client.cert, WEBHOOK_CLIENT_KEY_FILE: pki.client.key }

  t.test('valid files are kept as paths; their options trust the CA next to Node\'s own', async t => {
    const files = loadConfig(full).webhooks.tls
    t.same(files, { caFile: pki.ca, certFile: pki.client.cert, keyFile: pki.client.key })
    const options = webhookTlsOptions(files)
    t.equal(options?.ca?.length, rootCertificates.length + 1, 'in addition to the bundled CAs')
    t.match(options, { cert: /BEGIN CERTIFICATE/, key: /BEGIN PRIVATE KEY/ })
    t.same(loadConfig({}).webhooks.tls, { caFile: undefined, certFile: undefined, keyFile: undefined })
    t.equal(webhookTlsOptions(loadConfig({}).webhooks.tls), undefined, 'none set: Node\'s defaults')
    t.same(problems({ WEBHOOK_CA_FILE: pki.ca }), [], 'a CA alone is fine')
  })

  t.test('each bad setting names its variable', async t => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ ...full, WEBHOOK_CA_FILE: '/nonexistent/ca.pem' }, /^WEBHOOK_CA_FILE: file cannot be read \(got "\/nonexistent\/ca.pem"\)$/],
      [{ ...full, WEBHOOK_CLIENT_CERT_FILE: '/nonexistent/c.pem' }, /^WEBHOOK_CLIENT_CERT_FILE: file cannot be read/],
      [{ ...full, WEBHOOK_CLIENT_KEY_FILE: '/nonexistent/k.pem' }, /^WEBHOOK_CLIENT_KEY_FILE: file cannot be read/],
      [{ WEBHOOK_CLIENT_CERT_FILE: pki.client.cert }, /^WEBHOOK_CLIENT_CERT_FILE\/WEBHOOK_CLIENT_KEY_FILE: both are required/],
      [{ WEBHOOK_CLIENT_KEY_FILE: pki.client.key }, /^WEBHOOK_CLIENT_CERT_FILE\/WEBHOOK_CLIENT_KEY_FILE: both are required/],
      [{ WEBHOOK_CA_FILE: pki.client.key }, /^WEBHOOK_CA_FILE: holds no PEM certificate/],
      [{ ...full, WEBHOOK_CLIENT_KEY_FILE: pki.server.key }, /^WEBHOOK_CLIENT_CERT_FILE\/WEBHOOK_CLIENT_KEY_FILE: not a PEM certificate and its unencrypted private key: .*key values mismatch/]
    ]
    for (const [env, rule] of cases) {
      const p = problems(env)
      t.equal(p.length, 1, `${JSON.stringify(env)} gives one problem`)
      t.match(p[0], rule)
    }
  })

  t.test('the server exits 78 on an unreadable file, naming the variable', async t => {
    let output = ''
    const g = spawnGateway({ env: { ...full, WEBHOOK_CLIENT_KEY_FILE: '/nonexistent/key.pem', PORT: '0' }, onOutput: c => { output += c.toString() } })
    const { code } = await g.exited
    t.equal(code, 78, 'EX_CONFIG')
    t.match(output, /WEBHOOK_CLIENT_KEY_FILE: file cannot be read \(got "\/nonexistent\/key.pem"\)/)
  })
})
