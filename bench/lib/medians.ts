/** A row of the results: every repetition and their median, for each kind of figures. */
import type { DeliveryFigures } from './delivery.js'
import type { Figures } from './produce-runs.js'
import { median } from './util.js'

export interface Row<F> { reps: F[], median: F }

export const row = <F>(reps: F[], med: (r: F[]) => F): Row<F> => ({ reps, median: med(reps) })

/** Per-status request counts summed over repetitions. */
function sumCounts (list: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const c of list) for (const [k, v] of Object.entries(c)) out[k] = (out[k] ?? 0) + v
  return out
}

export function medianFigures (reps: Figures[]): Figures {
  return {
    messagesPerSec: median(reps.map(r => r.messagesPerSec)),
    p50Ms: median(reps.map(r => r.p50Ms)),
    p99Ms: median(reps.map(r => r.p99Ms)),
    messages: median(reps.map(r => r.messages)),
    failures: reps.reduce((n, r) => n + r.failures, 0),
    ...(reps.some(r => r.statusCodes !== undefined) ? { statusCodes: sumCounts(reps.map(r => r.statusCodes ?? {})) } : {}),
    durationS: median(reps.map(r => r.durationS))
  }
}

export function medianDelivery (reps: DeliveryFigures[]): DeliveryFigures {
  const opt = (xs: Array<number | undefined>): number | undefined => {
    const ok = xs.filter((x): x is number => x !== undefined)
    return ok.length === 0 ? undefined : median(ok)
  }
  return {
    messagesPerSec: median(reps.map(r => r.messagesPerSec)),
    p99Ms: opt(reps.map(r => r.p99Ms)),
    p50Ms: opt(reps.map(r => r.p50Ms)),
    latencySource: reps[0]?.latencySource ?? '',
    count: median(reps.map(r => r.count)),
    joinMs: median(reps.map(r => r.joinMs)),
    spanS: median(reps.map(r => r.spanS)),
    failures: reps.reduce((n, r) => n + r.failures, 0)
  }
}
