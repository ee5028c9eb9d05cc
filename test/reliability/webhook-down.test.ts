import t from 'tap'
import { smallScenario } from './check.js'

smallScenario(t, 'webhook-down', (t, v) => {
  t.ok((v.receiver.faults['503-window'] ?? 0) > 0, `the webhook answered 503 ${v.receiver.faults['503-window'] ?? 0} times`)
  t.equal(v.duplicates, 0, 'a webhook outage causes no duplicate')
})
