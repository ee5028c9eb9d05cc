/**
 * The gateway's own pull consumer in the delivery row: one instance (`POST /consumer-groups/{group}/instances`,
 * earliest, the default 500 records per poll, like the Strimzi bridge's), subscribed to the pre-filled
 * topic, polled with `GET …/records` and committed after every poll with `POST …/offsets` (everything
 * polled), as a client that must not lose records would. Records/s polled; compared with the bare kafkajs
 * consumer reading the same topic in the same run.
 */
import type { GatewayProcess } from '../../scripts/lib/launch/gateway.js'
import { gatewayJson, type DeliveryFigures } from './delivery.js'
import { pollAll, type PeerDeliveryRun } from './peer-delivery.js'

export async function gatewayPullRun (gw: GatewayProcess, o: PeerDeliveryRun): Promise<DeliveryFigures> {
  const base = `/consumer-groups/${encodeURIComponent(o.groupId)}/instances`
  const created = await gatewayJson(gw, 'POST', base, { name: 'bench', autoOffsetReset: 'earliest' }) as { instance_id: string }
  const instance = `${base}/${created.instance_id}`
  try {
    await gatewayJson(gw, 'POST', `${instance}/subscription`, { topics: [o.topic] })
    return await pollAll('gateway poll', async () => {
      const { records } = await gatewayJson(gw, 'GET', `${instance}/records?timeoutMs=1000`) as { records: unknown[] }
      if (records.length > 0) await gatewayJson(gw, 'POST', `${instance}/offsets`, {})
      return records.length
    }, o)
  } finally {
    await gatewayJson(gw, 'DELETE', instance).catch(() => undefined)
  }
}
