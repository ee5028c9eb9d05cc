/** Giving up a request: every record it carried goes to the dead-letter topic, with why and how often it failed. */
import type { DeadLetterWriter } from '../dead-letter.js'
import type { ConsumedRecord } from '../types.js'

export interface GivenUp {
  groupId: string
  status: number | undefined
  /** The last attempt's detail and the policy's reason to give up. */
  error: string
  attempts: number
  firstAttemptAt: number
  lastAttemptAt: number
}

/** False when `signal` stopped the write before it succeeded (nothing may be committed). */
export async function deadLetterAll (dlq: DeadLetterWriter, topic: string, records: readonly ConsumedRecord[], failure: GivenUp, signal: AbortSignal): Promise<boolean> {
  return await dlq.writeAll(topic, records.map(record => ({ ...failure, record })), signal)
}
