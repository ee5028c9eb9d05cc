/**
 * Snappy for kafkajs: raw snappy out (what the Java client's xerial `SnappyInputStream` also accepts);
 * in, both raw and the xerial framed stream Java producers write.
 */
import { createRequire } from 'node:module'
import { corrupt, type KafkaCodec } from './codec.js'

// snappyjs ships no type declarations: load it through require with the small surface used.
interface SnappyJs {
  compress (input: Buffer): Buffer
  uncompress (input: Buffer): Buffer
}
const snappy = createRequire(import.meta.url)('snappyjs') as SnappyJs

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]) // 0x82 "SNAPPY" 0x00
const XERIAL_HEADER_BYTES = 16 // magic, int32 version, int32 compatible version

function isXerial (buffer: Buffer): boolean {
  return buffer.length >= XERIAL_HEADER_BYTES && buffer.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)
}

/** Decodes a xerial snappy stream: header, then [int32 BE length][raw snappy chunk]... */
export function xerialUncompress (buffer: Buffer): Buffer {
  const chunks: Buffer[] = []
  let pos = XERIAL_HEADER_BYTES
  while (pos < buffer.length) {
    if (pos + 4 > buffer.length) throw corrupt('snappy', 'truncated xerial chunk length')
    const length = buffer.readInt32BE(pos)
    pos += 4
    if (length < 0 || pos + length > buffer.length) throw corrupt('snappy', 'xerial chunk past the end')
    chunks.push(snappy.uncompress(buffer.subarray(pos, pos + length)))
    pos += length
  }
  return chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks)
}

export const snappyCodec: KafkaCodec = {
  async compress (encoder) {
    return snappy.compress(encoder.buffer)
  },
  async decompress (buffer) {
    return isXerial(buffer) ? xerialUncompress(buffer) : snappy.uncompress(buffer)
  }
}
