/**
 * Does a series of memory samples grow? A least-squares slope over the samples after the warm-up, and the
 * medians of the first and the last window, so one GC pause or one spike decides nothing.
 */
import { median } from './util.js'

export interface Sample { atS: number, bytes: number }

export interface Growth {
  /** Least-squares slope of bytes over time, per minute, from the end of the warm-up on. */
  slopeBytesPerMin: number
  /** Median of the samples in the first `windowS` after the warm-up, and in the last `windowS`. */
  firstWindowBytes: number
  lastWindowBytes: number
  /** last / first window median. */
  lastToFirst: number
  samples: number
}

export function slopePerMinute (samples: readonly Sample[]): number {
  const n = samples.length
  if (n < 2) return 0
  const mx = samples.reduce((s, p) => s + p.atS, 0) / n
  const my = samples.reduce((s, p) => s + p.bytes, 0) / n
  let num = 0
  let den = 0
  for (const p of samples) {
    num += (p.atS - mx) * (p.bytes - my)
    den += (p.atS - mx) ** 2
  }
  return den === 0 ? 0 : (num / den) * 60
}

/** The growth of `samples` (ascending `atS`) once `warmupS` have passed, with windows of `windowS`. */
export function growthOf (samples: readonly Sample[], warmupS: number, windowS: number): Growth {
  const kept = samples.filter(s => s.atS >= warmupS)
  if (kept.length === 0) throw new Error(`no samples after the ${warmupS} s warm-up`)
  const start = (kept[0] as Sample).atS
  const end = (kept[kept.length - 1] as Sample).atS
  const first = median(kept.filter(s => s.atS <= start + windowS).map(s => s.bytes))
  const last = median(kept.filter(s => s.atS >= end - windowS).map(s => s.bytes))
  return { slopeBytesPerMin: slopePerMinute(kept), firstWindowBytes: first, lastWindowBytes: last, lastToFirst: last / first, samples: kept.length }
}
