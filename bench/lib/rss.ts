/** The gateway's resident memory, from /proc/<pid>/status (Linux), sampled while it runs. */
import { readFileSync } from 'node:fs'

/** VmRSS of a process, in bytes (Linux /proc); 0 once the process is gone (or when there is none). */
function processRssBytes (pid: number | undefined): number {
  if (pid === undefined) return 0
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? 0 : Number(m[1]) * 1024
  } catch {
    return 0
  }
}

/** Samples a process's RSS every `intervalMs` until stopped; `stop()` returns the peak and the samples. */
export function sampleRss (pid: number | undefined, intervalMs = 250): { stop: () => { peakBytes: number, samples: number[] } } {
  const samples: number[] = [processRssBytes(pid)]
  const timer = setInterval(() => { samples.push(processRssBytes(pid)) }, intervalMs)
  return {
    stop: () => {
      clearInterval(timer)
      samples.push(processRssBytes(pid))
      return { peakBytes: Math.max(...samples), samples }
    }
  }
}
