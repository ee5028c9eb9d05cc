/** One connect at a time per kafkajs client; later callers share the pending attempt. */
export interface Connector {
  /** Connects, or joins the connect under way; a failed connect is tried again by the next call. */
  ensure: () => Promise<void>
  /** Forgets the connection (the client disconnected): the next ensure() connects again. */
  reset: () => void
}

export function connector (connect: () => Promise<void>): Connector {
  let pending: Promise<void> | undefined
  return {
    ensure: () => {
      pending ??= connect().catch((err: unknown) => { pending = undefined; throw err })
      return pending
    },
    reset: () => { pending = undefined }
  }
}
