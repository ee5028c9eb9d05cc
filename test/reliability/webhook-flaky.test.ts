import t from 'tap'
import { smallScenario } from './check.js'

smallScenario(t, 'webhook-flaky', (t, v) => {
  for (const kind of ['500', '502', '503', 'timeout', 'reset']) {
    t.ok((v.receiver.faults[kind] ?? 0) > 0, `injected ${kind}: ${v.receiver.faults[kind] ?? 0}`)
  }
  t.equal(v.duplicates, 0, 'webhook errors cause no duplicate')
})
