/** What the results file says about the machine a run used. */
import { spawnSync } from 'node:child_process'
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os'

export interface MachineInfo {
  /** Processors this process may use (what `nproc` prints). */
  nproc: number
  cpuModel: string
  memoryGiB: number
  node: string
  java: string
  kafka: string
  platform: string
}

/** First line of `java -version` (it prints to stderr), or why there is none. */
export function javaVersion (): string {
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' })
  if (r.error !== undefined) return `unavailable (${r.error.message})`
  return `${r.stderr}${r.stdout}`.split('\n').find(l => l.trim() !== '')?.trim() ?? 'unknown'
}

export function machineInfo (kafkaVersion: string): MachineInfo {
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    java: javaVersion(),
    kafka: kafkaVersion,
    platform: `${process.platform} ${process.arch}`
  }
}

/** 1, 5 and 15 minute load averages, two decimals. */
export function loadAverage (): [number, number, number] {
  const [a = 0, b = 0, c = 0] = loadavg()
  return [+a.toFixed(2), +b.toFixed(2), +c.toFixed(2)]
}
