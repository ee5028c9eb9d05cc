/**
 * The peers measured beside the gateway, all installed outside the project and found through the
 * environment (bench/README.md): the Strimzi Kafka Bridge (STRIMZI_BRIDGE_LIBS, JAVA21),
 * @platformatic/kafka-hooks (KAFKA_HOOKS_DIR, NODE22) and @platformatic/kafka (the same two).
 * Probed once at the start; a missing one makes its rows read `not run: <why>`.
 */
import { probeKafkaHooks, type KafkaHooksProbe } from '../../scripts/lib/launch/kafka-hooks.js'
import { probeStrimziBridge, type StrimziProbe } from '../../scripts/lib/launch/strimzi-jars.js'
import { probePlatformaticKafka, type PlatformaticKafkaProbe } from './platformatic-kafka.js'

export interface PeerProbes {
  strimzi: StrimziProbe
  kafkaHooks: KafkaHooksProbe
  platformaticKafka: PlatformaticKafkaProbe
}

export function probePeers (): PeerProbes {
  return { strimzi: probeStrimziBridge(), kafkaHooks: probeKafkaHooks(), platformaticKafka: probePlatformaticKafka() }
}

/** One line per peer for the run's log: which version runs with what, or why it does not. */
export function peerLines (p: PeerProbes): string[] {
  const s = p.strimzi
  const h = p.kafkaHooks
  const k = p.platformaticKafka
  return [
    `# Strimzi Kafka Bridge: ${s.available ? `${s.version} (jars in ${s.libsDir}; Java ${s.javaVersion})` : `not run: ${s.reason}`}`,
    `# @platformatic/kafka-hooks: ${h.available ? `${h.version} under wattpm (Node ${h.nodeVersion}, ${h.dir})` : `not run: ${h.reason}`}`,
    `# @platformatic/kafka: ${k.available ? `${k.version} (Node ${k.nodeVersion})` : `not run: ${k.reason}`}`
  ]
}

/** What the results file records about the peers: versions and runtimes, or why not run. */
export function peerSummary (p: PeerProbes): Record<string, unknown> {
  const s = p.strimzi
  const h = p.kafkaHooks
  const k = p.platformaticKafka
  return {
    strimziBridge: s.available ? { version: s.version, java: s.javaVersion, libsDir: s.libsDir } : { notRun: s.reason },
    kafkaHooks: h.available ? { version: h.version, node: h.nodeVersion, runtime: 'wattpm start' } : { notRun: h.reason },
    platformaticKafka: k.available ? { version: k.version, node: k.nodeVersion } : { notRun: k.reason }
  }
}

/** The table's name of a peer: with its version when it runs. */
export function strimziName (p: PeerProbes): string {
  return `Strimzi bridge ${p.strimzi.version}`
}

export function hooksName (p: PeerProbes): string {
  return `@platformatic/kafka-hooks${p.kafkaHooks.available ? ` ${p.kafkaHooks.version}` : ''}`
}

export function platformaticName (p: PeerProbes): string {
  return `@platformatic/kafka${p.platformaticKafka.available ? ` ${p.platformaticKafka.version}` : ''}`
}
