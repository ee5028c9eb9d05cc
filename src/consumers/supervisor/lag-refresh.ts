/** Each tick measures the lag of the partitions held here (../lag.ts) and hands it to the runners. */
import { withTimeout } from '../../util/async.js'
import { measureLag } from '../lag.js'
import type { SupervisorState } from './state.js'

/** Never rejects; skipped while a previous measurement is still running (a slow cluster), bounded by lagTimeoutMs. */
export async function refreshLag (state: SupervisorState): Promise<void> {
  const lagAdmin = state.deps.lagAdmin
  if (lagAdmin === undefined || state.lagRunning) return
  const runners = [...state.slots.values()].map(s => s.runner)
  const targets = runners.map(r => r.lagTarget()).filter(t => Object.keys(t.assignment).length > 0)
  if (targets.length === 0) return
  state.lagRunning = true
  const measuring = (async () => {
    try {
      const result = await measureLag(await lagAdmin.get(), targets, () => { lagAdmin.replace() })
      const at = new Date()
      for (const r of runners) {
        const lag = result.get(r.groupId)
        // a runner replaced meanwhile is no longer in slots: its numbers do not matter
        if (lag !== undefined && state.slots.get(r.groupId)?.runner === r) r.applyLag(lag, at)
      }
    } catch (err) {
      state.log.debug({ err }, 'could not measure consumer lag')
    } finally {
      state.lagRunning = false
    }
  })()
  await withTimeout(measuring, state.lagTimeoutMs, 'lag measurement timed out').catch(() => {})
}
