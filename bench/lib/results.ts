/** The end of `npm run bench`: the table printed (header, rows, targets) and the results file written. */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Bench } from '../rows/context.js'
import { loadAverage, machineInfo } from './machine.js'
import { peerSummary } from './peers.js'
import { CPU_PROF_DIR, ONLY, REPS, RESULTS } from './run-settings.js'
import { CONNECTIONS, DURATION_S, MESSAGE_BYTES, MODE, PARTITIONS, WARMUP_S } from './settings.js'
import { targetLines } from './table.js'

/** What the run itself recorded: when it started, the load then, each section's seconds, the build's type errors. */
export interface RunRecord {
  startedAt: Date
  loadStart: [number, number, number]
  sectionSeconds: Record<string, number>
  buildTypeErrors: string | undefined
}

export function writeResults (b: Bench, run: RunRecord): void {
  const { services } = b
  const loadEnd = loadAverage()
  const machine = machineInfo(services.broker.version)
  const header = `kafka-http-gateway benchmark — ${run.startedAt.toISOString()}\n` +
    `machine: ${machine.nproc} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB; node ${process.version}; ${machine.java}; Kafka ${services.broker.version} (${services.broker.source})\n` +
    `load average at start ${run.loadStart.join(' ')}, at end ${loadEnd.join(' ')}; ${REPS} repetition(s) × ${DURATION_S} s, warm-up ${WARMUP_S} s excluded, median reported`
  const table = [header, ...b.lines, ...targetLines(b.targets)].join('\n')
  b.log(`\n${table}\n`)

  const out = {
    date: run.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { ...machine, loadAverageStart: run.loadStart, loadAverageEnd: loadEnd },
    setup: {
      broker: services.broker,
      redis: services.redis.source,
      gateway: MODE === 'build' ? 'node dist/src/server.js (tsc -p tsconfig.build.json)' : 'node --import tsx src/server.ts',
      ...(run.buildTypeErrors !== undefined ? { buildTypeErrors: run.buildTypeErrors } : {}),
      gatewayEnv: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'error', PRODUCE_LINGER_MS: process.env.PRODUCE_LINGER_MS ?? 'default (2)', PRODUCE_MAX_BATCH_RECORDS: process.env.PRODUCE_MAX_BATCH_RECORDS ?? 'default (1000)' },
      loadGenerator: 'autocannon, in a process of its own',
      durationS: DURATION_S,
      warmupS: WARMUP_S,
      repetitions: REPS,
      connections: CONNECTIONS,
      messageBytes: MESSAGE_BYTES,
      partitions: PARTITIONS,
      acks: -1,
      sections: [...ONLY],
      sectionSeconds: run.sectionSeconds,
      totalSeconds: +((Date.now() - run.startedAt.getTime()) / 1000).toFixed(1),
      ...(CPU_PROF_DIR !== '' ? { cpuProfileDir: CPU_PROF_DIR } : {})
    },
    ...b.results,
    peers: peerSummary(b.peers),
    targets: b.targets,
    table
  }
  mkdirSync(dirname(RESULTS), { recursive: true })
  writeFileSync(RESULTS, `${JSON.stringify(out, null, 2)}\n`)
  b.log(`# wrote ${RESULTS}`)
}
