/**
 * LZ4 for kafkajs: the LZ4 *frame* format (independent 64 KiB blocks, like Kafka's
 * KafkaLZ4BlockOutputStream). https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md
 */
import { createRequire } from 'node:module'
import { corrupt, type KafkaCodec } from './codec.js'

// lz4js ships no type declarations: load it through require with the small surface used.
interface Lz4Js {
  compressBlock (src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number
  decompressBlock (src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number
}
interface Xxh32 {
  hash (seed: number, src: Uint8Array, index: number, length: number): number
}
const load = createRequire(import.meta.url)
const lz4 = load('lz4js') as Lz4Js
const xxh32 = load('lz4js/xxh32.js') as Xxh32

const LZ4_MAGIC = 0x184d2204
const LZ4_FLG_VERSION = 0x40
const LZ4_FLG_BLOCK_INDEPENDENCE = 0x20
const LZ4_FLG_BLOCK_CHECKSUM = 0x10
const LZ4_FLG_CONTENT_SIZE = 0x08
const LZ4_FLG_CONTENT_CHECKSUM = 0x04
const LZ4_FLG_DICT_ID = 0x01
const LZ4_BD_64KB = 4 << 4
const LZ4_BLOCK_MAX = 64 * 1024
const LZ4_UNCOMPRESSED_BIT = 0x80000000
/**
 * Input bytes per block. Decoders (liblz4 behind lz4-java, librdkafka) decode into a buffer of the
 * frame's maximum block size and require every match to start at least 12 bytes before the end of
 * that buffer; lz4js lets the last match start 10 bytes before the end of its input. Blocks a little
 * shorter than the maximum keep every match within the limit.
 */
const LZ4_BLOCK_INPUT = LZ4_BLOCK_MAX - 16
const LZ4_BLOCK_BOUND = LZ4_BLOCK_INPUT + Math.ceil(LZ4_BLOCK_INPUT / 255) + 16

/** Encodes `input` as one LZ4 frame of independent 64 KiB blocks, no checksums, as Kafka's Java client does. */
export function lz4CompressFrame (input: Uint8Array): Buffer {
  const blocks = Math.ceil(input.length / LZ4_BLOCK_INPUT)
  const out = Buffer.allocUnsafe(7 + blocks * (4 + LZ4_BLOCK_INPUT) + 4)
  out.writeUInt32LE(LZ4_MAGIC, 0)
  out[4] = LZ4_FLG_VERSION | LZ4_FLG_BLOCK_INDEPENDENCE
  out[5] = LZ4_BD_64KB
  out[6] = (xxh32.hash(0, out, 4, 2) >>> 8) & 0xff
  let pos = 7
  const scratch = new Uint8Array(LZ4_BLOCK_BOUND)
  const hashTable = new Uint32Array(1 << 16)
  for (let start = 0; start < input.length; start += LZ4_BLOCK_INPUT) {
    const block = input.subarray(start, Math.min(start + LZ4_BLOCK_INPUT, input.length))
    hashTable.fill(0) // independent blocks: no match may reach into an earlier block
    const size = lz4.compressBlock(block, scratch, 0, block.length, hashTable)
    if (size > 0 && size < block.length) {
      out.writeUInt32LE(size, pos)
      out.set(scratch.subarray(0, size), pos + 4)
      pos += 4 + size
    } else {
      out.writeUInt32LE((LZ4_UNCOMPRESSED_BIT | block.length) >>> 0, pos)
      out.set(block, pos + 4)
      pos += 4 + block.length
    }
  }
  out.writeUInt32LE(0, pos) // end mark
  return out.subarray(0, pos + 4)
}

/**
 * Decodes one LZ4 frame (any block size, dependent or independent blocks, optional checksums and
 * content size; no dictionary). The header checksum is not checked: Kafka clients before 0.10
 * computed it wrongly.
 */
export function lz4DecompressFrame (input: Buffer): Buffer {
  if (input.length < 7 || input.readUInt32LE(0) !== LZ4_MAGIC) throw corrupt('lz4', 'not an LZ4 frame')
  const flg = input[4] as number
  const bd = input[5] as number
  if ((flg & 0xc0) !== LZ4_FLG_VERSION) throw corrupt('lz4', `unsupported frame version ${flg >> 6}`)
  if ((flg & LZ4_FLG_DICT_ID) !== 0) throw corrupt('lz4', 'dictionaries are not supported')
  const sizeCode = (bd >> 4) & 0x07
  if (sizeCode < 4) throw corrupt('lz4', `invalid block size code ${sizeCode}`)
  const blockMax = 1 << (2 * sizeCode + 8)
  const blockChecksum = (flg & LZ4_FLG_BLOCK_CHECKSUM) !== 0
  const contentChecksum = (flg & LZ4_FLG_CONTENT_CHECKSUM) !== 0
  let pos = 6
  let contentSize: number | undefined
  if ((flg & LZ4_FLG_CONTENT_SIZE) !== 0) {
    if (input.length < pos + 8) throw corrupt('lz4', 'truncated header')
    contentSize = Number(input.readBigUInt64LE(pos))
    pos += 8
  }
  pos += 1 // header checksum
  const blocksStart = pos

  // First pass: validate the block layout and bound the output size.
  let bound = 0
  for (;;) {
    if (pos + 4 > input.length) throw corrupt('lz4', 'truncated block header')
    const word = input.readUInt32LE(pos)
    pos += 4
    if (word === 0) break
    const size = word & 0x7fffffff
    if (size > blockMax) throw corrupt('lz4', 'block larger than the frame maximum')
    pos += size + (blockChecksum ? 4 : 0)
    if (pos > input.length) throw corrupt('lz4', 'truncated block')
    bound += (word & LZ4_UNCOMPRESSED_BIT) !== 0 ? size : blockMax
  }
  if (contentChecksum && pos + 4 > input.length) throw corrupt('lz4', 'truncated content checksum')

  const out = Buffer.allocUnsafe(contentSize ?? bound)
  let outPos = 0
  pos = blocksStart
  for (;;) {
    const word = input.readUInt32LE(pos)
    pos += 4
    if (word === 0) break
    const size = word & 0x7fffffff
    if ((word & LZ4_UNCOMPRESSED_BIT) !== 0) {
      if (outPos + size > out.length) throw corrupt('lz4', 'content larger than declared')
      input.copy(out, outPos, pos, pos + size)
      outPos += size
    } else {
      const end = lz4.decompressBlock(input, out, pos, size, outPos)
      if (end > out.length || end - outPos > blockMax) throw corrupt('lz4', 'block decodes past its bound')
      outPos = end
    }
    pos += size + (blockChecksum ? 4 : 0)
  }
  if (contentSize !== undefined && outPos !== contentSize) throw corrupt('lz4', 'content size mismatch')
  if (contentChecksum && xxh32.hash(0, out, 0, outPos) !== input.readUInt32LE(pos)) {
    throw corrupt('lz4', 'content checksum mismatch')
  }
  return out.subarray(0, outPos)
}

export const lz4Codec: KafkaCodec = {
  async compress (encoder) {
    return lz4CompressFrame(encoder.buffer)
  },
  async decompress (buffer) {
    return lz4DecompressFrame(buffer)
  }
}
