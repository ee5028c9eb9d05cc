/**
 * A broker that requires SASL_SSL on its client port: TLS with a PEM certificate the caller made, and
 * SASL with SCRAM-SHA-512 (the credentials written into the cluster metadata when the storage is
 * formatted) and PLAIN (JAAS in server.properties), one set of users for both. The brokers talk to one
 * another over the same listener (PLAIN, as the first user); the controller port stays PLAINTEXT.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SASLOptions } from 'kafkajs'
import type { NodeLayout } from './kafka-props.js'

export interface SaslUser { name: string, password: string }

export interface KafkaSecurity {
  /** The brokers' certificate (PEM, for 127.0.0.1) and its unencrypted PKCS#8 key. */
  certFile: string
  keyFile: string
  /** The CA (PEM) that signed `certFile`: the brokers' truststore and what the readiness probe trusts. */
  caFile: string
  /** Accepted for SCRAM-SHA-512 and PLAIN alike; the first is the brokers' own and the probe's identity. */
  users: [SaslUser, ...SaslUser[]]
}

/** Names and passwords go into JAAS and `--add-scram` unquoted: no quotes, commas, brackets or spaces. */
const SAFE = /^[A-Za-z0-9._~@#%^*+-]{1,128}$/

function checkUsers (s: KafkaSecurity): void {
  for (const u of s.users) {
    if (!SAFE.test(u.name) || !SAFE.test(u.password)) throw new Error(`SASL user "${u.name}": names and passwords must match ${String(SAFE)}`)
  }
}

/** server.properties entries of node `n` (none without security); writes its PEM keystore (key and certificate) into its directory. */
export function securityProps (n: NodeLayout, s: KafkaSecurity | undefined): Record<string, string> {
  if (s === undefined) return {}
  checkUsers(s)
  const keystore = join(n.dir, 'keystore.pem')
  writeFileSync(keystore, `${readFileSync(s.keyFile, 'utf8').trim()}\n${readFileSync(s.certFile, 'utf8').trim()}\n`, { mode: 0o600 })
  const [self] = s.users
  const plainUsers = s.users.map(u => `user_${u.name}="${u.password}"`).join(' ')
  return {
    listeners: `SASL_SSL://127.0.0.1:${n.port},CONTROLLER://127.0.0.1:${n.controllerPort}`,
    'advertised.listeners': `SASL_SSL://127.0.0.1:${n.port}`,
    'inter.broker.listener.name': 'SASL_SSL',
    'listener.security.protocol.map': 'SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512,PLAIN',
    'sasl.mechanism.inter.broker.protocol': 'PLAIN',
    'listener.name.sasl_ssl.plain.sasl.jaas.config':
      `org.apache.kafka.common.security.plain.PlainLoginModule required username="${self.name}" password="${self.password}" ${plainUsers};`,
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': keystore,
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': s.caFile
  }
}

/** StorageTool format arguments that store every user's SCRAM-SHA-512 credential. */
export function scramFormatArgs (s: KafkaSecurity | undefined): string[] {
  if (s === undefined) return []
  checkUsers(s)
  return s.users.flatMap(u => ['--add-scram', `SCRAM-SHA-512=[name=${u.name},password=${u.password}]`])
}

/** kafkajs settings that reach such a broker (as the first user, SCRAM-SHA-512): the readiness probe's. */
export function clientSecurity (s: KafkaSecurity | undefined): { ssl?: { ca: string[] }, sasl?: SASLOptions } {
  if (s === undefined) return {}
  const [self] = s.users
  return { ssl: { ca: [readFileSync(s.caFile, 'utf8')] }, sasl: { mechanism: 'scram-sha-512', username: self.name, password: self.password } }
}
