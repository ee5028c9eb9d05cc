/**
 * ZSTD for kafkajs: zstd frames; frames without a content size (zstd-jni streaming output, what Java
 * producers write) are decompressed too, into a buffer sized by walking the frame's block headers.
 * https://github.com/facebook/zstd/blob/dev/doc/zstd_compression_format.md
 */
import { init as zstdInit, compress as zstdCompress, decompress as zstdDecompress } from '@bokuweb/zstd-wasm'
import { corrupt, type KafkaCodec } from './codec.js'

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
