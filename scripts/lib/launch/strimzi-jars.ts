/**
 * Where the Strimzi Kafka Bridge (the benchmark's Java peer gateway: HTTP ↔ Kafka on Vert.x) and a Java
 * to run it are: env STRIMZI_BRIDGE_LIBS, the `libs/` folder of a release archive or of a source build
 * (`target/kafka-bridge-<v>/kafka-bridge-<v>/libs`), and env JAVA21, a `java` ≥ 21 (1.1.0 is compiled
 * for Java 21: Java 17 fails with "class file version 65"). Nothing is fetched: the bridge is not on
 * Maven Central (it ships as container images and GitHub release archives). Without both, the
 * benchmark's Strimzi rows say `not run: <why>`. bench/README.md says how the bridge was built.
 */
import { readdirSync } from 'node:fs'
import { commandVersion, envPath } from './peer-env.js'

/** The release the benchmark was set up with (the version that runs is read from the jar's name). */
export const STRIMZI_BRIDGE_VERSION = '1.1.0'
const MIN_JAVA = 21

export type StrimziProbe =
  | { available: true, version: string, libsDir: string, java: string, javaVersion: string }
  | { available: false, version: string, reason: string }

/** The bridge's version from its jar: `io.strimzi.kafka-bridge-1.1.0.jar` (release layout) or `kafka-bridge-1.1.0.jar`. */
function bridgeJarVersion (libsDir: string): string | undefined {
  for (const f of readdirSync(libsDir)) {
    const m = /^(?:io\.strimzi\.)?kafka-bridge-(\d[\w.-]*)\.jar$/.exec(f)
    if (m?.[1] !== undefined) return m[1]
  }
  return undefined
}

/** Whether the bridge can run here: its jars, their version and a Java ≥ 21; or why not. */
export function probeStrimziBridge (): StrimziProbe {
  const notRun = (reason: string): StrimziProbe => ({ available: false, version: STRIMZI_BRIDGE_VERSION, reason })
  const libs = envPath('STRIMZI_BRIDGE_LIBS', `the bridge's libs/ folder; the bridge is not on Maven Central`)
  if (!libs.ok) return notRun(libs.reason)
  const version = bridgeJarVersion(libs.value)
  if (version === undefined) return notRun(`no kafka-bridge-*.jar in STRIMZI_BRIDGE_LIBS=${libs.value}`)
  const java = envPath('JAVA21', `a java ≥ ${MIN_JAVA}, which the bridge ${version} needs`)
  if (!java.ok) return notRun(java.reason)
  const jv = commandVersion(java.value, ['-version'])
  if (!jv.ok) return notRun(jv.reason)
  if (Number(jv.value.split('.')[0]) < MIN_JAVA) return notRun(`JAVA21 is Java ${jv.value}; the bridge ${version} needs ≥ ${MIN_JAVA}`)
  return { available: true, version, libsDir: libs.value, java: java.value, javaVersion: jv.value }
}
