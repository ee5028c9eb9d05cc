/** Delivery events go to one observer (status counters, metrics); the loop builds them only when there is one. */
import type { Logger } from 'pino'
import type { DeliveryEvent } from '../types.js'
import { errorText } from './error-text.js'

export type DeliveryObserver = (e: DeliveryEvent) => void

/** An observer that throws is logged; it never fails a delivery. */
export function emit (observer: DeliveryObserver, log: Logger, e: DeliveryEvent): void {
  try {
    observer(e)
  } catch (err) {
    log.error({ err: errorText(err) }, 'delivery observer threw')
  }
}
