/**
 * The peer gateway for the benchmark: Strimzi Kafka Bridge (HTTP ↔ Kafka, Vert.x, Java).
 *
 * STATUS ON THESE MACHINES: IT CANNOT BE RUN. The bridge is not on Maven Central.
 * The benchmark must report it as "not run" with the reason `probeStrimziBridge()` returns, not as
 * a figure. What was checked (2026-11, Maven Central being the only Java registry reachable here):
 * - `mvn dependency:get -U -Dartifact=io.strimzi:kafka-bridge:<v>` fails for 0.28.0, 0.30.0 and
 *   0.31.1 with "Could not find artifact io.strimzi:kafka-bridge:jar:<v> in central"; the pom is
 *   missing too (HTTP 404) for every version probed (0.15.0, 0.19.0 ... 0.31.1, 0.32.0, 0.33.x,
 *   0.34.0, 1.0.0, and the 0.32.0/0.33.0 release candidates), and there is no
 *   `io/strimzi/kafka-bridge/maven-metadata.xml` at all. Neighbouring Strimzi
 *   artifacts do resolve (`io.strimzi:api`, `kafka-oauth-client`, `kafka-env-var-config-provider`),
 *   so the mirror works: the bridge itself was never released there. Its release process
 *   (development-docs/RELEASING.md, .azure/ pipelines) publishes container images
 *   (quay.io/strimzi/kafka-bridge) and ZIP/TAR.GZ archives on GitHub releases; the pom's
 *   Sonatype staging profile runs with autoReleaseAfterClose=false.
 * - No Docker engine here (container images are out), GitHub release archives are not reachable,
 *   and no other registry (npm, Debian) packages it. Building it from source would need the source
 *   tree, which is not fetchable here either.
 * - Java is not the obstacle: 0.31.1 (Kafka clients 3.9.0, Vert.x 4.5.11) targets Java 11 and
 *   its containers run Java 17, the JDK installed here.
 *
 * So strimzi-bridge.ts is ready for a machine where the jars exist: point `libsDir` (or env
 * STRIMZI_BRIDGE_LIBS) at the `libs/` folder of an unpacked release archive
 * (kafka-bridge-0.31.1.tar.gz), or let it resolve `io.strimzi:kafka-bridge:<version>` from
 * whatever Maven repository ~/.m2/settings.xml names (e.g. a company mirror that holds it) into
 * ~/.cache/kafka-http-gateway/strimzi-bridge-<version>/libs. It then runs
 *   java -cp libs/* io.strimzi.kafka.bridge.Application --config-file application.properties
 * (what the release's bin/kafka_bridge_run.sh runs) with `bridge.id`, `kafka.bootstrap.servers`,
 * `http.host=127.0.0.1`, `http.port=<free port>`, a log4j2 config of our own, and waits until
 * `GET /ready` answers 2xx.
 *
 * Its produce API, for the load generator (`strimziProduceRequest()` builds it):
 *   POST /topics/{topic}
 *   Content-Type: application/vnd.kafka.json.v2+json
 *   {"records":[{"value":<any JSON>}, ...]}            (optional "key", "partition", "headers")
 * answers 200 with {"offsets":[{"partition":p,"offset":o} | {"error_code":..,"message":..}]}.
 */
import { existsSync, readdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { fetchMavenLibs, MavenError } from './maven.js'
import { tail } from './text.js'

/** The release we would run: the last Vert.x-based 0.x line, Kafka clients 3.9.0, runs on Java 17. */
export const STRIMZI_BRIDGE_VERSION = '0.31.1'

/** Thrown when the bridge's jars cannot be had; `reason` is one line fit for a results table. */
export class StrimziBridgeUnavailableError extends Error {
  readonly reason: string
  readonly details: string
  constructor (reason: string, details: string) {
    super(`Strimzi Kafka Bridge unavailable: ${reason}`)
    this.name = 'StrimziBridgeUnavailableError'
    this.reason = reason
    this.details = details
  }
}

export interface StrimziJarsOptions {
  /** Release to resolve (default STRIMZI_BRIDGE_VERSION). */
  version?: string
  /** A folder with the bridge jars (an unpacked release's libs/); default env STRIMZI_BRIDGE_LIBS. */
  libsDir?: string
}

export type StrimziProbe =
  | { available: true, version: string, libsDir: string }
  | { available: false, version: string, reason: string, details: string }

export function strimziCacheDir (version = STRIMZI_BRIDGE_VERSION): string {
  return join(homedir(), '.cache', 'kafka-http-gateway', `strimzi-bridge-${version}`)
}

/**
 * The bridge's jar folder: `libsDir` / STRIMZI_BRIDGE_LIBS when given, else one
 * `mvn copy-dependencies` of io.strimzi:kafka-bridge:<version> into the cache (skipped once done).
 * Throws StrimziBridgeUnavailableError with Maven's reason when it does not resolve.
 */
export async function ensureStrimziBridgeJars (opts: StrimziJarsOptions = {}): Promise<string> {
  const version = opts.version ?? STRIMZI_BRIDGE_VERSION
  const given = opts.libsDir ?? process.env.STRIMZI_BRIDGE_LIBS
  if (given !== undefined && given !== '') {
    if (!existsSync(given) || !readdirSync(given).some(f => /^kafka-bridge-.*\.jar$/.test(f))) {
      throw new StrimziBridgeUnavailableError(`no kafka-bridge-*.jar in ${given}`, '')
    }
    return given
  }
  try {
    return await fetchMavenLibs({ dir: strimziCacheDir(version), name: 'kafka-http-gateway-strimzi-bridge', artifacts: [['io.strimzi', 'kafka-bridge', version]] })
  } catch (err) {
    if (!(err instanceof MavenError)) throw err
    // Maven says "Could not find artifact g:a:jar:v in central" the first time and
    // "g:a:jar:v was not found in <repo> during a previous attempt" while the miss is cached.
    const m = /Could not find artifact (\S+)|(\S+) was not found in/.exec(err.output)
    const missing = m?.[1] ?? m?.[2]
    const reason = missing !== undefined
      ? `${missing} is not in the configured Maven repositories (Maven Central does not carry the bridge; it ships as container images and GitHub release archives)`
      : `mvn copy-dependencies of io.strimzi:kafka-bridge:${version} failed (exit ${String(err.code)})`
    throw new StrimziBridgeUnavailableError(reason, tail(err.output, 40))
  }
}

/** Whether the bridge can run here, without throwing: for the benchmark's "not run because" row. */
export async function probeStrimziBridge (opts: StrimziJarsOptions = {}): Promise<StrimziProbe> {
  const version = opts.version ?? STRIMZI_BRIDGE_VERSION
  try {
    return { available: true, version, libsDir: await ensureStrimziBridgeJars(opts) }
  } catch (err) {
    if (err instanceof StrimziBridgeUnavailableError) return { available: false, version, reason: err.reason, details: err.details }
    return { available: false, version, reason: err instanceof Error ? err.message : String(err), details: '' }
  }
}
