/**
 * The node flags the gateway runs with, the same everywhere it is started: `npm start` (package.json),
 * the Docker image's CMD, and every launch of scripts/lib/launch/gateway.ts (tests, benchmarks, the
 * soak, `npm run dev`); test/operations/node-flags.test.ts checks that they agree.
 *
 * `--heap-growing-percent=50`: V8 lets the old generation grow to 1.5× what survived the last full GC
 * before the next one, instead of up to 4× (its default on a machine with a large heap limit). Each
 * consumer's empty fetches (every maxWaitTimeMs) leave garbage that outlives scavenges; with 500 groups
 * that garbage, not live objects, was most of the RSS (measured: ~70 MiB live heap in ~250 MiB of heap
 * held). The heap limit itself is unchanged.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--heap-growing-percent=50']
