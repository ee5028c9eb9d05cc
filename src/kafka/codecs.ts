/**
 * Snappy, LZ4 and ZSTD codecs for kafkajs (which bundles only gzip), in the formats the Apache Kafka
 * broker validates and the Java clients read and write; each lives in its own module (codec-snappy,
 * codec-lz4, codec-zstd). This module names the compressions and registers the codecs.
 */
import kafkajs, { type CompressionTypes } from 'kafkajs'
import { lz4Codec } from './codec-lz4.js'
import { snappyCodec } from './codec-snappy.js'
import { zstdCodec } from './codec-zstd.js'

export type { KafkaCodec } from './codec.js'
export { snappyCodec, xerialUncompress } from './codec-snappy.js'
export { lz4Codec, lz4CompressFrame, lz4DecompressFrame } from './codec-lz4.js'
export { zstdCodec, zstdDecompressFrames, zstdFrames, type ZstdFrame } from './codec-zstd.js'

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

/** Registers the Snappy, LZ4 and ZSTD codecs in kafkajs. Idempotent; the codecs are stateless. */
export function registerCodecs (): void {
  CompressionCodecs[Types.Snappy] = () => snappyCodec
  CompressionCodecs[Types.LZ4] = () => lz4Codec
  CompressionCodecs[Types.ZSTD] = () => zstdCodec
}
