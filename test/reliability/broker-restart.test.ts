import t from 'tap'
import { smallScenario } from './check.js'

smallScenario(t, 'broker-restart')
