/** What the codec modules (codec-snappy, codec-lz4, codec-zstd) share: the kafkajs codec shape and their error. */

/** What kafkajs expects from `CompressionCodecs[type]()`. */
export interface KafkaCodec {
  compress (encoder: { buffer: Buffer }): Promise<Buffer>
  decompress (buffer: Buffer): Promise<Buffer>
}

export function corrupt (codec: string, what: string): Error {
  return new Error(`${codec}: corrupt compressed data (${what})`)
}
