/**
 * TLS material the environment names by file: checked at boot (readable; a CA bundle of certificates; a
 * client certificate with its matching key), and read into the options an https client is built with.
 */
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createSecureContext, rootCertificates } from 'node:tls'

/** WEBHOOK_CA_FILE, WEBHOOK_CLIENT_CERT_FILE, WEBHOOK_CLIENT_KEY_FILE. */
export interface WebhookTlsFiles {
  caFile: string | undefined
  certFile: string | undefined
  keyFile: string | undefined
}

/** What the webhooks' connections are given (tls.connect options). */
export interface WebhookTls { ca?: string[], cert?: string, key?: string }

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g

function message (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** `file` as text, or the problem reading it (named by its variable). */
function readText (name: string, file: string): { text: string } | { problem: string } {
  try {
    return { text: readFileSync(file, 'utf8') }
  } catch {
    return { problem: `${name}: file cannot be read (got "${file}")` }
  }
}

export function unreadableFileProblem (name: string, file: string): string | undefined {
  const read = readText(name, file)
  return 'problem' in read ? read.problem : undefined
}

function caBundleProblem (file: string): string | undefined {
  const read = readText('WEBHOOK_CA_FILE', file)
  if ('problem' in read) return read.problem
  const certs = read.text.match(PEM_CERTIFICATE) ?? []
  if (certs.length === 0) return `WEBHOOK_CA_FILE: holds no PEM certificate (got "${file}")`
  for (const pem of certs) {
    try { void new X509Certificate(pem) } catch (err) { return `WEBHOOK_CA_FILE: a certificate cannot be parsed: ${message(err)} (got "${file}")` }
  }
  return undefined
}

function clientCertProblem (certFile: string, keyFile: string): string | undefined {
  const cert = readText('WEBHOOK_CLIENT_CERT_FILE', certFile)
  const key = readText('WEBHOOK_CLIENT_KEY_FILE', keyFile)
  if ('problem' in cert) return cert.problem
  if ('problem' in key) return key.problem
  try {
    createSecureContext({ cert: cert.text, key: key.text })
  } catch (err) {
    return `WEBHOOK_CLIENT_CERT_FILE/WEBHOOK_CLIENT_KEY_FILE: not a PEM certificate and its unencrypted private key: ${message(err)}`
  }
  return undefined
}

function clientPairProblem (certFile: string | undefined, keyFile: string | undefined): string | undefined {
  if (certFile === undefined && keyFile === undefined) return undefined
  if (certFile === undefined || keyFile === undefined) {
    return 'WEBHOOK_CLIENT_CERT_FILE/WEBHOOK_CLIENT_KEY_FILE: both are required for a client certificate (got only one)'
  }
  return clientCertProblem(certFile, keyFile)
}

/** Every problem with the webhook TLS files, each naming its variable. */
export function webhookTlsProblems (files: WebhookTlsFiles): string[] {
  const problems = [files.caFile === undefined ? undefined : caBundleProblem(files.caFile), clientPairProblem(files.certFile, files.keyFile)]
  return problems.filter((p): p is string => p !== undefined)
}

/**
 * The connection options for the checked files, undefined when none is set. WEBHOOK_CA_FILE's
 * certificates are trusted in addition to Node's bundled (Mozilla) CAs, so public https webhooks keep
 * working next to private ones.
 */
export function webhookTlsOptions (files: WebhookTlsFiles): WebhookTls | undefined {
  if (files.caFile === undefined && files.certFile === undefined) return undefined
  return {
    ...(files.caFile !== undefined ? { ca: [...rootCertificates, readFileSync(files.caFile, 'utf8')] } : {}),
    ...(files.certFile !== undefined && files.keyFile !== undefined
      ? { cert: readFileSync(files.certFile, 'utf8'), key: readFileSync(files.keyFile, 'utf8') }
      : {})
  }
}
