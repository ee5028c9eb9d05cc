/** The latency row's constant-rate producer, in a child process of its own (./paced-producer-child.ts). */
import { fileURLToPath } from 'node:url'
import { forkTsx, stopChild } from '../../scripts/lib/launch/child.js'
import type { PacedResult, PacedRun } from './paced-producer-child.js'

const CHILD = fileURLToPath(new URL('./paced-producer-child.ts', import.meta.url))

/** Runs one paced produce run in a fresh child and resolves with its per-record ack times. */
export async function pacedProduce (cmd: PacedRun): Promise<PacedResult> {
  const child = forkTsx(CHILD)
  try {
    const r = await new Promise<PacedResult>((resolve, reject) => {
      child.once('message', resolve)
      child.once('exit', (code, signal) => { reject(new Error(`paced producer exited (code ${String(code)}, signal ${String(signal)}) without a result`)) })
      child.send(cmd)
    })
    if (!r.ok) throw new Error(`paced producer: ${r.error ?? 'failed'}`)
    return r
  } finally {
    await stopChild(child)
  }
}
