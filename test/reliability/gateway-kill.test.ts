import t from 'tap'
import { smallScenario } from './check.js'

smallScenario(t, 'gateway-kill', (t, v) => {
  t.equal(v.faults.filter(f => f.kind === 'gateway').length, 2, 'killed and restarted twice')
})
