import { randomBytes } from 'node:crypto'

/** A name no other test (file or run) uses: topics, groups, client ids, registry keys. */
export function uniqueName (prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}
