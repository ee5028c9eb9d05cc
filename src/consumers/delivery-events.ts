/**
 * The deliverer reports to one observer (createDeliverer deps); this fans its events out to whoever
 * listens: the consumer supervisor (status counters per group and partition) and the metrics.
 */
import type { Logger } from 'pino'
import type { DeliveryEvent } from '../webhooks/types.js'

export type DeliveryListener = (e: DeliveryEvent) => void

export interface DeliveryEvents {
  /** The deliverer's observer. A listener that throws is logged and the others still run. */
  emit: DeliveryListener
  /** Adds a listener; returns its removal. */
  subscribe (listener: DeliveryListener): () => void
}

export function createDeliveryEvents (logger: Logger): DeliveryEvents {
  const listeners = new Set<DeliveryListener>()
  return {
    emit (e) {
      for (const l of listeners) {
        try {
          l(e)
        } catch (err) {
          logger.error({ err, component: 'webhooks' }, 'delivery event listener threw')
        }
      }
    },
    subscribe (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    }
  }
}
