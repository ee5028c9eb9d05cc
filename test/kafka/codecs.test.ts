import { randomBytes, randomInt } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import t from 'tap'
import kafkajs from 'kafkajs'
import {
  COMPRESSIONS,
  compressionType,
  lz4Codec,
  lz4CompressFrame,
  lz4DecompressFrame,
  registerCodecs,
  snappyCodec,
  zstdCodec,
  zstdFrames,
  type KafkaCodec
} from '../../src/kafka/codecs.js'

const { CompressionCodecs, CompressionTypes } = kafkajs

/**
 * Compressed by Apache Kafka 3.9.1's own `org.apache.kafka.common.compress.Compression`
 * (`Compression.of(codec).build().wrapForOutput(stream, RecordBatch.MAGIC_VALUE_V2)`, what the Java
 * producer runs), then gzip+base64 here to keep the fixtures short. The inputs are `lines(...)` below.
 * - zstd: zstd-jni streaming output, a frame WITHOUT content size (header 28b52ffd 00 58), 1 778 049
 *   bytes once decompressed: more than bokuweb's default 1 MiB output buffer for such frames.
 * - snappy: xerial framed stream (0x82 SNAPPY 0x00 header, two 32 KiB chunks).
 * - lz4: Kafka's Lz4BlockOutputStream frame (FLG 0x60, BD 0x40: independent 64 KiB blocks).
 */
const JAVA = {
  zstd: 'H4sIAAAAAAACA9PYqv+XIUKFl+HYdVOJCZpH2X5wmWUf+3/25/+d2tXLp3g6TNtdUWDOoM2gw+Dy5f///7e35d7Ovb1N13OSiqUxEKS7llsyBCnwCfWxNrkIFiiYiPC0MT0yYOFjO25YYMAl5OYI1ATUUwbU6D1JxfPcmTNnejqA4MSdu0AwEwRCQUBQUDBwG1BRNFBRURoQuGmIcLU6LQzQ2LMbCEB2Ga9eBQRKIPCLuRwEQOrSwNpdQABo1X6g4+4C7QOa8mnNC73829uYGxNWOH54/V+yMX2KmBm70I//9gcf3rj9ny/2/MOk+K8cLK0eBh4tTU4qEqqHlpk+YvF4M7tzL/dRuRU3zMV+nz4a17Ax3eibeG+uWebSibMTX5peNWZi6VBgYVQROMDAJHLg4Pf/9////3eeSYlDkVOwRaFJwEnAkUOJRZFF0EXBScCJw5Fl0emo2dy7luZMXOS6Sidog8dOpbNdIaFLFiildm1Rcu2v1Nh634iRhUPAoYEh6pDahpfZn2btWhZz+doSU9drLN2+9vX/nvSvXMT0YrUPAwNHBSPDn/+WAkwgti4SuwSJnYrELkZiFyCxLZDYaUjsChzipTjsymBkqFUEshkZGADmKNXDTAIAAA==',
  snappy: 'H4sIAAAAAAACA2sK9nMMCIhkAAJGCGYza2hgiinOSywoqFSoSC3KTMxRSMusKCktSlUw4AqTYGAwjAISRiDCGESYgAhTEGEGJP6tGEWjaBSNolE0UtC7FQycKxgYmP43lMegVxiwisRstOIYRcMaSa4AAOCPYblNCQAA',
  lz4: 'H4sIAAAAAAACA2NR8pVIcGjKYGRg+MeaU2WikFaUmJuqkJZZUVJalKpgwCXCIG8owsAgbwQijEGECYgwBRFmIMIcRFiACEsQYXiSgYn/FAOjvOFpBkZ+OyAnnYGB3wbIZmf8P7LBpABw4MYDw/orKzyIjbjgwS5CTAjrGxqIgoIXSPDDgth2NIgh4HAAOEwvMDAw/Gcz4cJM0ESEqryRKDA4QcGqAQlWeWMQY8DCtjcA6G4TLqCXGADn0MwxrgMAAA=='
}
const fixture = (b64: string): Buffer => gunzipSync(Buffer.from(b64, 'base64'))
const lines = (prefix: string, n: number, mod: number): Buffer =>
  Buffer.from(Array.from({ length: n }, (_, i) => `${prefix} ${i % mod}\n`).join(''))

const CODECS: Record<'snappy' | 'lz4' | 'zstd', KafkaCodec> = { snappy: snappyCodec, lz4: lz4Codec, zstd: zstdCodec }

function text (size: number): Buffer {
  const words = ['kafka', 'http', 'gateway', 'record', 'batch', 'offset', '{"a":1}', ' ', '\n']
  let s = ''
  while (s.length < size) s += (words[randomInt(words.length)] as string) + (randomInt(4) === 0 ? String(randomInt(1000)) : '')
  return Buffer.from(s.slice(0, size))
}

t.test('compression names map to kafkajs CompressionTypes', async t => {
  t.same([...COMPRESSIONS], ['none', 'gzip', 'snappy', 'lz4', 'zstd'])
  t.equal(compressionType('none'), CompressionTypes.None)
  t.equal(compressionType('gzip'), CompressionTypes.GZIP)
  t.equal(compressionType('snappy'), CompressionTypes.Snappy)
  t.equal(compressionType('lz4'), CompressionTypes.LZ4)
  t.equal(compressionType('zstd'), CompressionTypes.ZSTD)
})

t.test('registerCodecs installs the codecs in kafkajs, idempotently', async t => {
  registerCodecs()
  registerCodecs()
  const registry = CompressionCodecs as unknown as Record<number, () => unknown>
  const lookup = (type: number): unknown => (registry[type] as () => unknown)()
  t.equal(lookup(CompressionTypes.Snappy), snappyCodec)
  t.equal(lookup(CompressionTypes.LZ4), lz4Codec)
  t.equal(lookup(CompressionTypes.ZSTD), zstdCodec)
  t.type(lookup(CompressionTypes.GZIP), 'object', 'gzip stays the bundled codec')
})

t.test('round trips', async t => {
  const inputs: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['one byte', Buffer.from([0x2a])],
    ['small random', randomBytes(randomInt(2, 500))],
    ['1 MiB random', randomBytes(1 << 20)],
    ['1 MiB compressible', text(1 << 20)],
    ['64 KiB boundaries', text(65536 * 2 + 1)],
    ['4 MiB zeros', Buffer.alloc(4 << 20)],
    ['mixed', Buffer.concat([text(70000), randomBytes(70000), text(70000)])]
  ]
  for (const [codecName, codec] of Object.entries(CODECS)) {
    for (const [name, input] of inputs) {
      const compressed = await codec.compress({ buffer: input })
      t.ok(Buffer.isBuffer(compressed), `${codecName} ${name}: compress gives a Buffer`)
      const output = await codec.decompress(compressed)
      t.ok(Buffer.isBuffer(output) && output.equals(input), `${codecName} ${name}: ${input.length} bytes round trip`)
    }
  }
  for (let i = 0; i < 30; i++) {
    const input = randomInt(2) === 0 ? randomBytes(randomInt(0, 200_000)) : text(randomInt(0, 200_000))
    for (const codec of Object.values(CODECS)) {
      if (!(await codec.decompress(await codec.compress({ buffer: input }))).equals(input)) t.fail(`random round trip of ${input.length} bytes`)
    }
  }
})

t.test('snappy', async t => {
  t.test('decodes the xerial framed stream written by Kafka\'s Java client', async t => {
    const framed = fixture(JAVA.snappy)
    t.equal(framed.subarray(0, 8).toString('hex'), '82534e4150505900')
    t.ok((await snappyCodec.decompress(framed)).equals(lines('snappy xerial fixture', 2000, 7)))
  })
  t.test('decodes a hand-built xerial stream of several chunks, including an empty one', async t => {
    const parts = [text(32768), randomBytes(32768), Buffer.alloc(0), text(1000)]
    const header = Buffer.from('82534e41505059000000000100000001', 'hex')
    const chunks = await Promise.all(parts.map(async p => {
      const raw = await snappyCodec.compress({ buffer: p })
      const len = Buffer.alloc(4)
      len.writeInt32BE(raw.length)
      return Buffer.concat([len, raw])
    }))
    t.ok((await snappyCodec.decompress(Buffer.concat([header, ...chunks]))).equals(Buffer.concat(parts)))
    t.equal((await snappyCodec.decompress(header)).length, 0, 'header only: empty')
  })
  t.test('compresses raw snappy (no xerial header)', async t => {
    const out = await snappyCodec.compress({ buffer: text(1000) })
    t.not(out.subarray(0, 8).toString('hex'), '82534e4150505900')
  })
  t.test('rejects corrupt input', async t => {
    const framed = fixture(JAVA.snappy)
    await t.rejects(snappyCodec.decompress(framed.subarray(0, framed.length - 10)))
    await t.rejects(snappyCodec.decompress(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])))
  })
})

t.test('lz4', async t => {
  t.test('writes the frame Kafka writes: independent 64 KiB blocks, valid header checksum', async t => {
    const out = lz4CompressFrame(text(200_000))
    // same 7 header bytes as org.apache.kafka.common.compress.Lz4BlockOutputStream
    t.equal(out.subarray(0, 7).toString('hex'), fixture(JAVA.lz4).subarray(0, 7).toString('hex'))
    t.equal(out.subarray(0, 7).toString('hex'), '04224d18604082')
    t.equal(out.readUInt32LE(out.length - 4), 0, 'end mark')
    // every block regenerates less than 64 KiB - 12 bytes (the liblz4 end-of-buffer margin)
    let pos = 7
    let blocks = 0
    for (;;) {
      const word = out.readUInt32LE(pos)
      if (word === 0) break
      const size = word & 0x7fffffff
      const decoded = lz4DecompressFrame(Buffer.concat([out.subarray(0, 7), out.subarray(pos, pos + 4 + size), Buffer.alloc(4)]))
      t.ok(decoded.length <= 65536 - 12, `block ${blocks} holds ${decoded.length} bytes`)
      pos += 4 + size
      blocks++
    }
    t.equal(blocks, Math.ceil(200_000 / (65536 - 16)))
  })
  t.test('stores incompressible blocks uncompressed', async t => {
    const out = lz4CompressFrame(randomBytes(1000))
    t.equal(out.readUInt32LE(7), (0x80000000 | 1000) >>> 0)
  })
  t.test('decodes the frame written by Kafka\'s Java client', async t => {
    t.ok((await lz4Codec.decompress(fixture(JAVA.lz4))).equals(lines('lz4 frame fixture', 8000, 13)))
  })
  t.test('decodes content size, block checksums and a content checksum', async t => {
    const data = text(100_000)
    const plain = lz4CompressFrame(data)
    // re-frame with FLG = version | independence | block checksum | content size | content checksum
    const blocks: Buffer[] = []
    let pos = 7
    for (;;) {
      const word = plain.readUInt32LE(pos)
      if (word === 0) break
      const size = word & 0x7fffffff
      blocks.push(plain.subarray(pos, pos + 4 + size), Buffer.from('deadbeef', 'hex'))
      pos += 4 + size
    }
    const size = Buffer.alloc(8)
    size.writeBigUInt64LE(BigInt(data.length))
    const checksum = Buffer.alloc(4)
    checksum.writeUInt32LE(xxh32(data))
    const framed = Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x7c, 0x40]), size, Buffer.from([0]), ...blocks, Buffer.alloc(4), checksum])
    t.ok(lz4DecompressFrame(framed).equals(data))
    framed.writeUInt32LE((checksum.readUInt32LE(0) + 1) >>> 0, framed.length - 4)
    t.throws(() => lz4DecompressFrame(framed), /content checksum/)
  })
  t.test('rejects corrupt input', async t => {
    const good = lz4CompressFrame(text(100_000))
    await t.rejects(lz4Codec.decompress(good.subarray(0, good.length - 100)), /truncated/)
    await t.rejects(lz4Codec.decompress(Buffer.from('not lz4 at all')), /not an LZ4 frame/)
    const badVersion = Buffer.from(good)
    badVersion[4] = 0x80 // version 2
    await t.rejects(lz4Codec.decompress(badVersion), /version/)
  })
})

t.test('zstd', async t => {
  t.test('decodes a Java (zstd-jni streaming) frame without content size, larger than 1 MiB', async t => {
    const frame = fixture(JAVA.zstd)
    t.equal(frame.subarray(0, 6).toString('hex'), '28b52ffd0058', 'frame header: no content size')
    const [info] = zstdFrames(frame)
    t.equal(info?.contentSize, undefined)
    const expected = lines('kafka-http-gateway zstd fixture', 50000, 251)
    t.ok((info?.maxSize ?? 0) >= expected.length, 'bound covers the content')
    t.ok((await zstdCodec.decompress(frame)).equals(expected))
  })
  t.test('decodes hand-built frames: no content size, raw and RLE blocks, skippable and concatenated frames', async t => {
    const blockHeader = (size: number, type: number, last: boolean): Buffer => {
      const h = Buffer.alloc(3)
      h.writeUIntLE((size << 3) | (type << 1) | (last ? 1 : 0), 0, 3)
      return h
    }
    const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])] // no FCS, window 128 KiB
    const expected: Buffer[] = []
    for (let i = 0; i < 17; i++) { // 2.1 MiB of raw blocks
      const block = randomBytes(128 * 1024)
      parts.push(blockHeader(block.length, 0, false), block)
      expected.push(block)
    }
    parts.push(blockHeader(5000, 1, true), Buffer.from([0x41]))
    expected.push(Buffer.alloc(5000, 0x41))
    const frame1 = Buffer.concat(parts)
    t.ok((await zstdCodec.decompress(frame1)).equals(Buffer.concat(expected)), 'frame without content size')

    const skippable = Buffer.concat([Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0]), Buffer.from('abc')])
    const frame2 = await zstdCodec.compress({ buffer: Buffer.from('second frame') })
    const all = Buffer.concat([frame1, skippable, frame2])
    t.equal(zstdFrames(all).length, 2)
    t.ok((await zstdCodec.decompress(all)).equals(Buffer.concat([...expected, Buffer.from('second frame')])), 'frames are concatenated')
  })
  t.test('rejects corrupt input', async t => {
    const good = await zstdCodec.compress({ buffer: text(300_000) })
    await t.rejects(zstdCodec.decompress(good.subarray(0, good.length - 10)), /truncated/)
    await t.rejects(zstdCodec.decompress(Buffer.from('not zstd at all')), /not a zstd frame/)
    const reservedBlockType = Buffer.from('28b52ffd0038' + '070000', 'hex') // last block, type 3
    await t.rejects(zstdCodec.decompress(reservedBlockType), /reserved block type/)
    // a compressed block whose content is garbage: libzstd's error surfaces as a rejection
    const garbage = Buffer.concat([Buffer.from('28b52ffd0038', 'hex'), Buffer.from([(16 << 3) | (2 << 1) | 1, 0, 0]), Buffer.alloc(16, 0xff)])
    await t.rejects(zstdCodec.decompress(garbage), /zstd: corrupt/)
  })
})

/** xxHash32 with seed 0, independent of the implementation under test. */
function xxh32 (data: Buffer): number {
  const P1 = 0x9e3779b1, P2 = 0x85ebca77, P3 = 0xc2b2ae3d, P4 = 0x27d4eb2f, P5 = 0x165667b1
  const rotl = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0
  const round = (acc: number, lane: number): number => Math.imul(rotl((acc + Math.imul(lane, P2)) >>> 0, 13), P1) >>> 0
  let i = 0
  let h: number
  if (data.length >= 16) {
    let v1 = (P1 + P2) >>> 0, v2 = P2, v3 = 0, v4 = (0 - P1) >>> 0
    for (; i + 16 <= data.length; i += 16) {
      v1 = round(v1, data.readUInt32LE(i)); v2 = round(v2, data.readUInt32LE(i + 4))
      v3 = round(v3, data.readUInt32LE(i + 8)); v4 = round(v4, data.readUInt32LE(i + 12))
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) >>> 0
  } else {
    h = P5
  }
  h = (h + data.length) >>> 0
  for (; i + 4 <= data.length; i += 4) h = Math.imul(rotl((h + Math.imul(data.readUInt32LE(i), P3)) >>> 0, 17), P4) >>> 0
  for (; i < data.length; i++) h = Math.imul(rotl((h + Math.imul(data[i] as number, P5)) >>> 0, 11), P1) >>> 0
  h = Math.imul(h ^ (h >>> 15), P2) >>> 0
  h = Math.imul(h ^ (h >>> 13), P3) >>> 0
  return (h ^ (h >>> 16)) >>> 0
}
