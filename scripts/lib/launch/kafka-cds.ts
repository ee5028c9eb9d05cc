/**
 * Class-data sharing: an AppCDS archive of the broker's classes cuts JVM start by ~40 %. The first clean
 * broker exit on a machine writes it (-XX:ArchiveClassesAtExit); later starts map it (a JVM stopped by
 * SIGTERM exits with 143 after the dump). A stale or mismatched archive is ignored by the JVM.
 * KAFKA_CDS=0 turns this off.
 */
import { existsSync, renameSync, rmSync } from 'node:fs'
import { cdsArchiveFile } from './kafka-jars.js'

const state = { dumpInProgress: false }

function enabled (): boolean {
  return process.env.KAFKA_CDS !== '0'
}

/** JVM flags for a broker, and what to do once it exits (publish a freshly dumped archive). */
export function brokerCdsArgs (): { args: string[], onExit: (code: number | null) => void } {
  const none = { args: [], onExit: () => undefined }
  if (!enabled()) return none
  const archive = cdsArchiveFile()
  if (existsSync(archive)) return { args: [`-XX:SharedArchiveFile=${archive}`], onExit: () => undefined }
  if (state.dumpInProgress) return none
  state.dumpInProgress = true
  const tmp = `${archive}.${process.pid}.tmp`
  return {
    args: [`-XX:ArchiveClassesAtExit=${tmp}`],
    onExit: code => {
      state.dumpInProgress = false
      try {
        if ((code === 0 || code === 143) && existsSync(tmp) && !existsSync(archive)) renameSync(tmp, archive)
      } catch { /* another process won the race */ }
      rmSync(tmp, { force: true })
    }
  }
}

/** JVM flags for a short-lived Kafka tool: the archive when there is one (it never writes one). */
export function toolCdsArgs (): string[] {
  return enabled() && existsSync(cdsArchiveFile()) ? [`-XX:SharedArchiveFile=${cdsArchiveFile()}`] : []
}
