/**
 * The contenders of a row (the gateway, the direct clients, the peers), run the same way: a warm-up each
 * (not counted), then BENCH_REPS repetitions with the contenders interleaved (gateway first, then the
 * references, per repetition), the median reported. A contender that cannot run here keeps its place in
 * the table as `not run: <why>`. `A` is what one run is given (produce: seconds; delivery: a topic).
 */
import { medianDelivery, medianFigures, row, type Row } from './medians.js'
import type { DeliveryFigures } from './delivery.js'
import type { Figures } from './produce-runs.js'
import { REPS } from './run-settings.js'
import { deliveryRow, figRow, notRunRow } from './table.js'

export interface RunningContender<A, F> {
  /** Key in the results file. */
  key: string
  name: string
  /** One run (`warmUp` true for the uncounted first one). */
  run: (arg: A, warmUp: boolean) => Promise<F>
  /** false: no warm-up run (each run starts a fresh process anyway). */
  warmUp?: boolean
  /** Appended to its table line. */
  note?: string
}

export type Contender<A, F> = RunningContender<A, F> | { key: string, name: string, notRun: string }

export const runsHere = <A, F>(c: Contender<A, F>): c is RunningContender<A, F> => !('notRun' in c)

/** Each contender's repetitions and their median; undefined for those not run. */
export type Measured<F> = Map<string, Row<F> | undefined>

export type ProduceContender = Contender<number, Figures>
export type DeliveryContender<A> = Contender<A, DeliveryFigures>

/** Warm-up with `warm`, then REPS repetitions with `measured(i)`, the contenders interleaved. */
async function interleave<A, F extends { messagesPerSec: number }> (median: (reps: F[]) => F, contenders: Array<Contender<A, F>>, warm: A, measured: (rep: number) => A, log: (line: string) => void): Promise<Measured<F>> {
  const running = contenders.filter(runsHere)
  for (const c of running) if (c.warmUp !== false) await c.run(warm, true)
  const reps = new Map<string, F[]>(running.map(c => [c.key, []]))
  for (let i = 1; i <= REPS; i++) {
    const line: string[] = []
    for (const c of running) {
      const f = await c.run(measured(i), false)
      reps.get(c.key)?.push(f)
      line.push(`${c.name} ${f.messagesPerSec.toFixed(0)} msg/s`)
    }
    log(`# rep ${i}: ${line.join(', ')}`)
  }
  return new Map(contenders.map(c => {
    const r = reps.get(c.key)
    return [c.key, r === undefined ? undefined : row(r, median)]
  }))
}

export async function interleaveProduce (contenders: ProduceContender[], warmS: number, seconds: number, log: (line: string) => void): Promise<Measured<Figures>> {
  return await interleave(medianFigures, contenders, warmS, () => seconds, log)
}

export async function interleaveDelivery<A> (contenders: Array<DeliveryContender<A>>, warm: A, measured: (rep: number) => A, log: (line: string) => void): Promise<Measured<DeliveryFigures>> {
  return await interleave(medianDelivery, contenders, warm, measured, log)
}

/** The table lines of the contenders, in their order. */
export function contenderLines<A, F extends Figures | DeliveryFigures> (contenders: Array<Contender<A, F>>, m: Measured<F>): string[] {
  return contenders.map(c => {
    if (!runsHere(c)) return notRunRow(c.name, c.notRun)
    const r = m.get(c.key)
    if (r === undefined) return notRunRow(c.name, 'no figures')
    const line = 'joinMs' in r.median ? deliveryRow(c.name, r.median) : figRow(c.name, r.median)
    return `${line}${c.note !== undefined ? `   ${c.note}` : ''}`
  })
}

/** The results-file entries of the contenders: their rows, or why not run. */
export function contenderResults<A, F> (contenders: Array<Contender<A, F>>, m: Measured<F>): Record<string, unknown> {
  return Object.fromEntries(contenders.map(c => [c.key, runsHere(c) ? m.get(c.key) : { notRun: c.notRun }]))
}

/** The median msg/s of contender `over` (default the gateway) over that of `key`, when both ran. */
export function ratioTo<F extends { messagesPerSec: number }> (m: Measured<F>, key: string, over = 'gateway'): number | undefined {
  const a = m.get(over)?.median.messagesPerSec
  const b = m.get(key)?.median.messagesPerSec
  return a === undefined || b === undefined ? undefined : a / b
}

/**
 * The same ratio in each repetition: the contenders of a repetition ran one after the other, so its pair
 * saw the same machine. The spread says how far to trust the median's ratio on a noisy machine.
 */
export function repRatios<F extends { messagesPerSec: number }> (m: Measured<F>, key: string, over = 'gateway'): number[] | undefined {
  const a = m.get(over)?.reps
  const b = m.get(key)?.reps
  if (a === undefined || b === undefined || a.length !== b.length) return undefined
  return a.map((f, i) => f.messagesPerSec / (b[i] as F).messagesPerSec)
}
