/** Kafka error types saying a consumer's generation is over: a rebalance began, or the member was evicted. */
const MEMBERSHIP_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'FENCED_INSTANCE_ID'])

/** True for a Kafka error that ends this member's generation; false for transient ones (connection, coordinator moving). */
export function isMembershipError (err: unknown): boolean {
  const type = (err as { type?: unknown } | null)?.type
  return typeof type === 'string' && MEMBERSHIP_ERRORS.has(type)
}
