/**
 * Certificates made with `openssl` for a test, in a temp dir removed when the test ends: a CA, a server
 * certificate for 127.0.0.1 and localhost, a client certificate, and for mismatches a server certificate of
 * another CA and one of our CA for another host name. Keys are unencrypted PKCS#8 PEM (EC P-256).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { runCommand } from '../../scripts/lib/launch/child.js'

/** A certificate and its key, as PEM files. */
export interface CertFiles { cert: string, key: string }

export interface TestPki {
  dir: string
  /** The CA's certificate (PEM), which signed `server`, `client` and `wrongHost`. */
  ca: string
  /** SAN IP:127.0.0.1, DNS:localhost; serverAuth and clientAuth (brokers use it both ways). */
  server: CertFiles
  /** CN test-client; clientAuth. */
  client: CertFiles
  /** SAN IP:127.0.0.1 like `server`, but signed by another CA. */
  otherCa: CertFiles
  /** Signed by the CA, for DNS:elsewhere.invalid only. */
  wrongHost: CertFiles
}

async function openssl (dir: string, args: string[]): Promise<void> {
  const { code, out } = await runCommand('openssl', args, { cwd: dir, timeoutMs: 30_000 })
  if (code !== 0) throw new Error(`openssl ${args.join(' ')} failed (exit ${String(code)}):\n${out}`)
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

async function selfSignedCa (dir: string, name: string): Promise<void> {
  await openssl(dir, ['req', '-x509', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
}

/** A key and a certificate `name` signed by CA `ca`, with the extensions `ext` (openssl x509 -extfile lines). */
async function signed (dir: string, name: string, ca: string, ext: string[]): Promise<CertFiles> {
  writeFileSync(join(dir, `${name}.ext`), ext.join('\n') + '\n')
  await openssl(dir, ['req', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`])
  await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-set_serial', String(Date.now()),
    '-days', '2', '-out', `${name}.pem`, '-extfile', `${name}.ext`])
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) }
}

const LOCAL_SAN = 'subjectAltName=IP:127.0.0.1,DNS:localhost'

export async function makePki (t: Test): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'test-pki-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  await Promise.all([selfSignedCa(dir, 'ca'), selfSignedCa(dir, 'other-ca')])
  const [server, client, otherCa, wrongHost] = await Promise.all([
    signed(dir, 'server', 'ca', [LOCAL_SAN, 'extendedKeyUsage=serverAuth,clientAuth']),
    signed(dir, 'client', 'ca', ['extendedKeyUsage=clientAuth']),
    signed(dir, 'other-server', 'other-ca', [LOCAL_SAN, 'extendedKeyUsage=serverAuth']),
    signed(dir, 'wrong-host', 'ca', ['subjectAltName=DNS:elsewhere.invalid', 'extendedKeyUsage=serverAuth'])
  ])
  return { dir, ca: join(dir, 'ca.pem'), server, client, otherCa, wrongHost }
}
