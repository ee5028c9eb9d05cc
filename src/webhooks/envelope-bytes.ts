/**
 * Envelope bodies as bytes, for the webhook requests and the pull consumer's answers: written once into
 * one buffer of the exact size, the value's bytes copied in where they are their own JSON
 * (envelope-value.ts). A single envelope's text form (envelopeBody, envelope.ts) is what its bytes decode to.
 */
import { envelopeParts, type EnvelopeParts } from './envelope.js'
import type { DecodedValue } from './envelope-value.js'
import type { ConsumedRecord } from './types.js'

const QUOTE = 0x22
const COMMA = 0x2c
const BATCH_OPEN = '{"records":['

/** What follows the records of a batch body: `extra` fields after `records` (the topic reader adds `nextOffset`). */
function batchClose (extra: Record<string, string>): string {
  let close = ']'
  for (const k in extra) close += `,${JSON.stringify(k)}:${JSON.stringify(extra[k])}`
  return close + '}'
}

function valueLength (v: DecodedValue): number {
  if (v.raw === undefined) return Buffer.byteLength(v.json)
  return v.raw.length + (v.quoted === true ? 2 : 0)
}

function writeValue (out: Buffer, at: number, v: DecodedValue): number {
  if (v.raw === undefined) return at + out.write(v.json, at)
  let pos = at
  if (v.quoted === true) out[pos++] = QUOTE
  pos += v.raw.copy(out, pos)
  if (v.quoted === true) out[pos++] = QUOTE
  return pos
}

/** `open`, the envelopes separated by commas, `close`. */
function written (parts: readonly EnvelopeParts[], open: string, close: string): Buffer {
  let size = Buffer.byteLength(open) + Buffer.byteLength(close) + Math.max(0, parts.length - 1)
  for (const p of parts) size += Buffer.byteLength(p.head) + valueLength(p.value) + Buffer.byteLength(p.tail)
  const out = Buffer.allocUnsafe(size)
  let pos = out.write(open, 0)
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as EnvelopeParts
    if (i > 0) out[pos++] = COMMA
    pos += out.write(p.head, pos)
    pos = writeValue(out, pos, p.value)
    pos += out.write(p.tail, pos)
  }
  out.write(close, pos)
  return out
}

/** One record's envelope: the body of a single-record request. */
export function envelopeBytes (record: ConsumedRecord): Buffer {
  return written([envelopeParts(record)], '', '')
}

/** The body of a batch request (webhook `batchSize` > 1): `{"records":[<envelope>, ...]}` and the `extra` fields after it. */
export function batchBytes (records: readonly ConsumedRecord[], extra: Record<string, string> = {}): Buffer {
  return written(records.map(envelopeParts), BATCH_OPEN, batchClose(extra))
}
