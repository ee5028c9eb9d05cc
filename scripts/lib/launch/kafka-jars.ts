/**
 * Apache Kafka 3.9.1 as jars from Maven Central (broker and tools), collected once into a cache outside
 * git, and the JVM flags every broker and Kafka tool runs with.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { classpath, jvmFlags } from './java.js'
import { fetchMavenLibs, type Artifact } from './maven.js'
import { readIfExists } from './text.js'

export const KAFKA_VERSION = '3.9.1'

const ARTIFACTS: Artifact[] = [
  ['org.apache.kafka', 'kafka_2.13', KAFKA_VERSION],
  ['org.apache.kafka', 'kafka-tools', KAFKA_VERSION],
  ['org.slf4j', 'slf4j-reload4j', '1.7.36']
]

/** Cache directory for the jars (outside git). Env KAFKA_JARS_DIR overrides. */
export function kafkaCacheDir (): string {
  return process.env.KAFKA_JARS_DIR ?? join(homedir(), '.cache', 'kafka-http-gateway', `kafka-${KAFKA_VERSION}`)
}

/** The log4j 1.x configuration every broker and tool uses (written by ensureKafkaJars). */
export function kafkaLog4jFile (): string {
  return join(kafkaCacheDir(), 'log4j.properties')
}

/** The brokers' class-data sharing archive (kafka-cds.ts); tied to the exact jars. */
export function cdsArchiveFile (): string {
  return join(kafkaCacheDir(), 'kafka-broker.jsa')
}

const LOG4J = `# Written by scripts/lib/launch/kafka-jars.ts: WARN and above to stderr (captured in <node dir>/kafka.log).
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
# One INFO line per start/stop makes the log readable without the noise.
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
log4j.logger.state.change.logger=WARN
# "Connection to node N could not be established" every few ms while a peer is down.
log4j.logger.org.apache.kafka.clients.NetworkClient=ERROR
`

/** Makes sure the Kafka jars are in the cache (one `mvn copy-dependencies`, then never again). Returns the libs directory. */
export async function ensureKafkaJars (): Promise<string> {
  const dir = kafkaCacheDir()
  mkdirSync(dir, { recursive: true })
  if (readIfExists(kafkaLog4jFile()) !== LOG4J) writeFileSync(kafkaLog4jFile(), LOG4J)
  return await fetchMavenLibs({
    dir,
    name: 'kafka-http-gateway-local-kafka',
    artifacts: ARTIFACTS,
    quiet: true,
    onRefetch: () => { rmSync(cdsArchiveFile(), { force: true }) }
  })
}

/** JVM flags of a broker or a Kafka tool: `jvmFlags`, a short GC pause target, the shared log4j file, the jars. */
export function kafkaJvmFlags (libs: string, heapMb: number): string[] {
  return [...jvmFlags(heapMb), '-XX:MaxGCPauseMillis=20', `-Dlog4j.configuration=file:${kafkaLog4jFile()}`, ...classpath(libs)]
}
