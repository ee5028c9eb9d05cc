/**
 * The SSE event id: a compact cursor of every partition a stream reads, `<partition>/<next offset>`
 * joined by commas (`0/118,2/7`). Each event's id is the whole cursor after it, so the one id an
 * EventSource keeps (and sends back as `Last-Event-ID`) resumes every partition — a per-record
 * `<partition>/<offset>` would lose the others. The offset is the next one to send, like `nextOffset`
 * of GET /topics/{t}/partitions/{p}/records: resuming starts exactly there, nothing skipped or repeated.
 */
import { fieldError } from '../errors.js'

/** Partition → the next offset to send. */
export type Cursor = Map<number, bigint>

const MAX_PARTITION = 2_147_483_647
const MAX_OFFSET = 2n ** 63n - 1n
const ENTRY = /^(\d{1,10})\/(\d{1,19})$/

export function formatCursor (cursor: Cursor): string {
  return [...cursor].sort(([a], [b]) => a - b).map(([p, o]) => `${p}/${o}`).join(',')
}

/** Parses a cursor given in `field` (the header or the query); 400 naming the field when malformed. */
export function parseCursor (field: string, text: string): Cursor {
  const cursor: Cursor = new Map()
  for (const entry of text.trim().split(',')) {
    const m = ENTRY.exec(entry.trim())
    const partition = Number(m?.[1])
    const offset = m?.[2] === undefined ? -1n : BigInt(m[2])
    if (m === null || partition > MAX_PARTITION || offset > MAX_OFFSET) {
      throw fieldError(field, 'cursor', `"${entry}" is not <partition>/<offset> (a cursor is such entries joined by commas, as the stream's event ids are)`)
    }
    if (cursor.has(partition)) throw fieldError(field, 'cursor', `partition ${partition} is listed twice`)
    cursor.set(partition, offset)
  }
  return cursor
}

/** `partitions=0,2`: distinct partition numbers; 400 naming `querystring/partitions` when malformed. */
export function parsePartitionList (text: string): number[] {
  const list = text.split(',').map(s => s.trim())
  if (!list.every(s => /^\d{1,10}$/.test(s) && Number(s) <= MAX_PARTITION)) {
    throw fieldError('querystring/partitions', 'partitionList', `"${text}" is not a comma-separated list of partition numbers`)
  }
  return [...new Set(list.map(Number))].sort((a, b) => a - b)
}

/** `topics=a,b`: distinct names in order given. */
export function parseNameList (field: string, text: string): string[] {
  const list = text.split(',').map(s => s.trim())
  if (list.some(s => s === '')) throw fieldError(field, 'topicList', `"${text}" is not a comma-separated list of topic names`)
  return [...new Set(list)]
}
