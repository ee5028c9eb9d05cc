/**
 * Snappy, LZ4 and ZSTD codecs for kafkajs (which bundles only gzip), in the formats the Apache Kafka
 * broker validates and the Java clients read and write:
 * - Snappy: raw snappy out (what the Java client's xerial `SnappyInputStream` also accepts); in, both
 *   raw and the xerial framed stream Java producers write.
 * - LZ4: the LZ4 *frame* format (independent 64 KiB blocks, like Kafka's KafkaLZ4BlockOutputStream).
 * - ZSTD: zstd frames; frames without a content size (zstd-jni streaming output, what Java producers
 *   write) are decompressed too, into a buffer sized by walking the frame's block headers.
 */
import { createRequire } from 'node:module'
import kafkajs, { type CompressionTypes } from 'kafkajs'
import { init as zstdInit, compress as zstdCompress, decompress as zstdDecompress } from '@bokuweb/zstd-wasm'

const { CompressionCodecs, CompressionTypes: Types } = kafkajs

export const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
export type CompressionName = typeof COMPRESSIONS[number]

export function compressionType (name: CompressionName): CompressionTypes {
  switch (name) {
    case 'none': return Types.None
    case 'gzip': return Types.GZIP
    case 'snappy': return Types.Snappy
    case 'lz4': return Types.LZ4
    case 'zstd': return Types.ZSTD
  }
}

/** What kafkajs expects from `CompressionCodecs[type]()`. */
export interface KafkaCodec {
  compress (encoder: { buffer: Buffer }): Promise<Buffer>
  decompress (buffer: Buffer): Promise<Buffer>
}

/** Registers the Snappy, LZ4 and ZSTD codecs in kafkajs. Idempotent; the codecs are stateless. */
export function registerCodecs (): void {
  CompressionCodecs[Types.Snappy] = () => snappyCodec
  CompressionCodecs[Types.LZ4] = () => lz4Codec
  CompressionCodecs[Types.ZSTD] = () => zstdCodec
}

// snappyjs and lz4js ship no type declarations: load them through require with the small surface used.
const load = createRequire(import.meta.url)

interface SnappyJs {
  compress (input: Buffer): Buffer
  uncompress (input: Buffer): Buffer
}
interface Lz4Js {
  compressBlock (src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number
  decompressBlock (src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number
}
interface Xxh32 {
  hash (seed: number, src: Uint8Array, index: number, length: number): number
}
const snappy = load('snappyjs') as SnappyJs
const lz4 = load('lz4js') as Lz4Js
const xxh32 = load('lz4js/xxh32.js') as Xxh32

function corrupt (codec: string, what: string): Error {
  return new Error(`${codec}: corrupt compressed data (${what})`)
}

// ---------------------------------------------------------------------------------------------
// Snappy

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

// ---------------------------------------------------------------------------------------------
// LZ4 frame (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md)

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

// ---------------------------------------------------------------------------------------------
// ZSTD (https://github.com/facebook/zstd/blob/dev/doc/zstd_compression_format.md)

/** Kafka's default (compression.zstd.level); kafkajs offers no level setting. */
const ZSTD_LEVEL = 3
const ZSTD_MAGIC = 0xfd2fb528
const ZSTD_SKIPPABLE_MAGIC = 0x184d2a50 // low 4 bits free
const ZSTD_BLOCK_MAX = 128 * 1024
/** The wasm heap is capped at 2 GiB; refuse frames that could not fit rather than fail inside malloc. */
const ZSTD_MAX_OUTPUT = 1024 * 1024 * 1024

let zstdReady: Promise<void> | undefined
function zstdInitOnce (): Promise<void> {
  zstdReady ??= zstdInit().catch((err: unknown) => {
    zstdReady = undefined // let a later call retry
    throw err
  })
  return zstdReady
}

export interface ZstdFrame {
  /** The frame's bytes, magic to checksum. */
  frame: Buffer
  /** Frame_Content_Size when the header carries it. */
  contentSize: number | undefined
  /** Upper bound of the decompressed size, from the block headers (= contentSize when known). */
  maxSize: number
}

/**
 * Splits `input` into its zstd frames (skipping skippable frames) and bounds each frame's
 * decompressed size: raw and RLE blocks state their size, a compressed block regenerates at most
 * min(window size, 128 KiB).
 */
export function zstdFrames (input: Buffer): ZstdFrame[] {
  const frames: ZstdFrame[] = []
  const need = (end: number, what: string): void => {
    if (end > input.length) throw corrupt('zstd', `truncated ${what}`)
  }
  let pos = 0
  while (pos < input.length) {
    need(pos + 4, 'frame magic')
    const magic = input.readUInt32LE(pos)
    if (((magic & 0xfffffff0) >>> 0) === ZSTD_SKIPPABLE_MAGIC) {
      need(pos + 8, 'skippable frame')
      pos += 8 + input.readUInt32LE(pos + 4)
      need(pos, 'skippable frame')
      continue
    }
    if (magic !== ZSTD_MAGIC) throw corrupt('zstd', 'not a zstd frame')
    const start = pos
    need(pos + 5, 'frame header')
    const fhd = input[pos + 4] as number
    pos += 5
    if ((fhd & 0x08) !== 0) throw corrupt('zstd', 'reserved header bit set')
    const fcsFlag = fhd >> 6
    const singleSegment = (fhd & 0x20) !== 0
    const hasChecksum = (fhd & 0x04) !== 0
    const dictIdBytes = [0, 1, 2, 4][fhd & 0x03] as number
    const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag] as number
    let windowSize = Infinity
    if (!singleSegment) {
      need(pos + 1, 'window descriptor')
      const wd = input[pos] as number
      const base = 2 ** (10 + (wd >> 3))
      windowSize = base + (base / 8) * (wd & 0x07)
      pos += 1
    }
    pos += dictIdBytes
    need(pos + fcsBytes, 'frame header')
    let contentSize: number | undefined
    switch (fcsBytes) {
      case 1: contentSize = input[pos] as number; break
      case 2: contentSize = input.readUInt16LE(pos) + 256; break
      case 4: contentSize = input.readUInt32LE(pos); break
      case 8: contentSize = Number(input.readBigUInt64LE(pos)); break
    }
    pos += fcsBytes
    const blockMax = Math.min(windowSize, ZSTD_BLOCK_MAX)
    let bound = 0
    for (;;) {
      need(pos + 3, 'block header')
      const header = input.readUIntLE(pos, 3)
      pos += 3
      const last = (header & 1) !== 0
      const type = (header >> 1) & 0x03
      const size = header >>> 3
      switch (type) {
        case 0: bound += size; pos += size; break // raw
        case 1: bound += size; pos += 1; break // RLE: one byte repeated `size` times
        case 2: bound += blockMax; pos += size; break // compressed
        default: throw corrupt('zstd', 'reserved block type')
      }
      need(pos, 'block')
      if (last) break
    }
    if (hasChecksum) pos += 4
    need(pos, 'content checksum')
    frames.push({ frame: input.subarray(start, pos), contentSize, maxSize: contentSize ?? bound })
  }
  return frames
}

/**
 * Decompresses every frame of `input`. bokuweb's `decompress` sizes its output from the frame's
 * content size, or from `defaultHeapSize` when the frame has none (zstd-jni streaming output, which
 * is what Java producers write): that is where the bound computed from the block headers goes.
 */
export function zstdDecompressFrames (input: Buffer): Buffer {
  const parts: Uint8Array[] = []
  for (const { frame, maxSize } of zstdFrames(input)) {
    if (maxSize > ZSTD_MAX_OUTPUT) throw new Error(`zstd: frame too large to decompress (up to ${maxSize} bytes)`)
    try {
      parts.push(zstdDecompress(frame, { defaultHeapSize: maxSize }))
    } catch (err) {
      throw new Error('zstd: corrupt compressed data', { cause: err })
    }
  }
  if (parts.length === 1) {
    const only = parts[0] as Uint8Array
    return Buffer.from(only.buffer, only.byteOffset, only.byteLength)
  }
  return Buffer.concat(parts)
}

export const zstdCodec: KafkaCodec = {
  async compress (encoder) {
    await zstdInitOnce()
    const out = zstdCompress(encoder.buffer, ZSTD_LEVEL)
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength)
  },
  async decompress (buffer) {
    await zstdInitOnce()
    return zstdDecompressFrames(buffer)
  }
}
