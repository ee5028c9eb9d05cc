/**
 * The idempotent producer's cost, measured in the same run (issue 16): a second gateway process with
 * PRODUCE_IDEMPOTENT=false (a plain kafkajs producer for acks -1) as one more produce contender. It is
 * started on its first run and stopped with `close()` at the end of the row.
 */
import type { GatewayProcess } from '../../scripts/lib/launch/gateway.js'
import { launchGateway, type Bench } from '../rows/context.js'
import type { ProduceContender } from './contenders.js'
import { gatewayProduceRun } from './produce-runs.js'
import { VALUE } from './run-settings.js'
import { CONNECTIONS } from './settings.js'

export function plainGatewayContender (b: Bench, topic: string, messagesPerRequest?: number): { contender: ProduceContender, close: () => Promise<void> } {
  let gw: GatewayProcess | undefined
  return {
    contender: {
      key: 'gatewayNotIdempotent',
      name: `gateway, PRODUCE_IDEMPOTENT=false${messagesPerRequest !== undefined ? ` ×${messagesPerRequest}` : ''}`,
      note: 'the idempotent producer\'s cost',
      run: async (seconds) => {
        gw ??= await launchGateway(b, { PRODUCE_IDEMPOTENT: 'false' })
        const g = await gatewayProduceRun({ url: gw.url, topic, seconds, connections: CONNECTIONS, value: VALUE, ...(messagesPerRequest !== undefined ? { messagesPerRequest } : {}) })
        return g.figures
      }
    },
    close: async () => { await gw?.stop() }
  }
}
