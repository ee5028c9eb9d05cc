/** A kafkajs error's fields the gateway reads. */
export interface ErrorLike {
  name?: unknown
  message?: unknown
  type?: unknown
  code?: unknown
  cause?: unknown
  originalError?: unknown
  errors?: unknown
}

/** The error and everything it wraps (kafkajs retries wrap the last failure in `cause`/`originalError`), at most 16. */
export function errorChain (err: unknown): ErrorLike[] {
  const out: ErrorLike[] = []
  const queue: unknown[] = [err]
  while (queue.length > 0 && out.length < 16) {
    const e = queue.shift()
    if (e === null || typeof e !== 'object' || out.includes(e as ErrorLike)) continue
    const like = e as ErrorLike
    out.push(like)
    queue.push(like.cause, like.originalError)
    if (Array.isArray(like.errors)) queue.push(...(like.errors as unknown[]))
  }
  return out
}
