import t from 'tap'
import { smallScenario } from './check.js'

smallScenario(t, 'gateway-takeover')
