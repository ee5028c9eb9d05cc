import t from 'tap'
import { smallScenario } from './check.js'

smallScenario(t, 'redis-restart', (t, v) => {
  t.ok(Object.keys(v.retries).some(k => k.includes('GW_REDIS_UNAVAILABLE')), `POSTs were refused while Redis was down: ${JSON.stringify(v.retries)}`)
})
