/** The settings `npm run bench` and `npm run bench:produce` share: one reading of the same variables, one set of defaults. */
import type { GatewayMode } from '../../scripts/lib/launch/gateway.js'
import { envInt, envNumber } from './util.js'

/** Seconds per measured run. */
export const DURATION_S = envNumber('BENCH_DURATION', 30)
/** Seconds of warm-up, excluded from the figures. */
export const WARMUP_S = envNumber('BENCH_WARMUP', 5)
export const CONNECTIONS = envInt('BENCH_CONNECTIONS', 64)
export const PARTITIONS = envInt('BENCH_PARTITIONS', 6)
export const MESSAGE_BYTES = envInt('BENCH_MESSAGE_BYTES', 1024)
/** build: `tsc` then node dist/src/server.js; tsx: the sources through tsx. */
export const MODE: GatewayMode = process.env.BENCH_GATEWAY === 'tsx' ? 'tsx' : 'build'
