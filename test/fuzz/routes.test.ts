/**
 * Bad input (issue 8, item 2): fast-check throws random malformed requests at every route of a real app
 * (real broker and Redis) — wrong types, missing and unknown fields, huge strings, deep nesting, invalid
 * UTF-8, wrong content types, oversize bodies, odd query strings, path params and headers — through
 * `app.inject`, then random bytes and malformed HTTP over a real socket. Every answer must be a 4xx in the
 * error shape (503 in the same shape only if a dependency is down), never another 5xx; the process stays
 * up and its heap does not grow without bound.
 *
 * Requests are built so they never produce a record, store a consumer group, create or delete a topic:
 * topic names are always invalid or `fuzz-absent-*` (never created), so a well-formed body that slips
 * through answers 404, and topic creations ask for more replicas than the cluster has brokers (400).
 * The seed is fixed (FUZZ_SEED overrides it) and printed; a failure prints the counterexample and the
 * seed/path to replay it. FUZZ_SCALE=<n> multiplies the random runs; FUZZ_DEBUG='<route>' (e.g.
 * 'POST /messages') prints every answer of that route on stderr, to see what the generators reach.
 */
import t from 'tap'
import fc from 'fast-check'
import { randomBytes } from 'node:crypto'
import { connect, type AddressInfo } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Client } from 'undici'
import type { FastifyInstance, HTTPMethods } from 'fastify'
import { build } from '../helpers/build.js'
import { errorShapeProblem, type ErrorBody } from '../helpers/error-shape.js'
import { MAX_BODY_DEPTH } from '../../src/http/validation.js'

const SEED = Number(process.env.FUZZ_SEED ?? 20260521)
/** FUZZ_SCALE=10 runs ten times as many random requests (a longer hunt; the default keeps `npm test` fast). */
const SCALE = Math.max(1, Number(process.env.FUZZ_SCALE ?? 1))
const API_KEY = `fuzz-key-${randomBytes(12).toString('hex')}`
const BODY_LIMIT = 1024 * 1024

const ROUTES = [
  'POST /messages', 'POST /consumer-groups', 'GET /consumer-groups', 'GET /consumer-groups/{id}',
  'GET /consumers', 'DELETE /consumers', 'GET /health/*', 'GET /openapi.json', 'GET /metrics',
  'GET /topics', 'POST /topics', 'GET /topics/{topic}', 'DELETE /topics/{topic}', 'GET /topics/{topic}/partitions/{p}/offsets',
  'GET /topics/{topic}/partitions/{p}/records'
] as const
type Route = typeof ROUTES[number]

/** Runs per route for the inject phase: with the body-only runs below, 500 random requests to every route. */
const RUNS: Record<Route, number> = {
  'POST /messages': 280,
  'POST /consumer-groups': 280,
  'GET /consumer-groups': 500,
  'GET /consumer-groups/{id}': 500,
  'GET /consumers': 500,
  'DELETE /consumers': 500,
  'GET /health/*': 500,
  'GET /openapi.json': 500,
  'GET /metrics': 500,
  'GET /topics': 500,
  'POST /topics': 280,
  'GET /topics/{topic}': 500,
  'DELETE /topics/{topic}': 500,
  'GET /topics/{topic}/partitions/{p}/offsets': 500,
  'GET /topics/{topic}/partitions/{p}/records': 500
}
/** Further runs of the two body routes with the right key, JSON content type and no query: the body alone is judged. */
const BODY_RUNS = 220

interface FuzzRequest {
  route: Route
  method: HTTPMethods
  url: string
  headers: Record<string, string>
  payload?: string | Buffer
  /** Whether the Authorization header carries the right key in an accepted form. */
  authorized: boolean
}

// ---------------------------------------------------------------- generators

/** Present three times in four. */
const option = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined, freq: 4 })
/** Present one time in `n`. */
const rarely = <T>(arb: fc.Arbitrary<T>, n = 8): fc.Arbitrary<T | undefined> => fc.oneof({ weight: n - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb })

/** Present with a valid-looking value, present with a wrong one, or absent. */
const field = <T, U>(valid: fc.Arbitrary<T>, wrong: fc.Arbitrary<U>): fc.Arbitrary<T | U | undefined> =>
  option(fc.oneof({ weight: 3, arbitrary: valid }, { weight: 2, arbitrary: wrong }))

const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.string({ maxLength: 8 }),
  fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 })
)

/** Long strings of one unit (ASCII, 2-byte, 4-byte, NUL, quote, backslash, a lone surrogate), cheap to build. */
const hugeString = fc.tuple(fc.constantFrom('a', 'é', '😀', '\u0000', '"', '\\', '\ud800'), fc.integer({ min: 1000, max: 120_000 }))
  .map(([unit, n]) => unit.repeat(n))

const anyString = fc.oneof(
  { weight: 5, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: hugeString }
)

/** Topic names that are never legal (a space, a slash, NUL, too long, dots...) or legal but never created. */
const topicArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.nat().map(n => `fuzz-absent-${n.toString(36)}`) },
  { weight: 2, arbitrary: fc.constantFrom('', '.', '..', 'a b', 'a/b', 'ünï', 'x'.repeat(250), 'tab\tname', 'nul\u0000', '$bad', '../../etc/passwd', '__proto__') },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }).map(s => `${s} /`) },
  { weight: 1, arbitrary: wrongType }
)

const unknownFields = fc.dictionary(
  fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('isAssignPartition', 'Topic', 'values', 'partition', 'acks', 'extra', 'constructor')),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 3 }
)

const messageArb = fc.record({
  value: fc.oneof({ weight: 6, arbitrary: fc.jsonValue({ maxDepth: 3 }) }, { weight: 1, arbitrary: hugeString }, { weight: 1, arbitrary: fc.constant(undefined) }),
  valueEncoding: field(fc.constantFrom('json', 'text', 'base64'), fc.oneof(fc.string({ maxLength: 8 }), wrongType)),
  key: field(fc.oneof(anyString, fc.constant(null)), wrongType),
  keyEncoding: field(fc.constantFrom('text', 'base64'), fc.oneof(fc.string({ maxLength: 8 }), wrongType)),
  headers: field(
    fc.dictionary(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('content-type', 'departure', 'x-request-id', 'arrival', 'key-encoding', 'Content-Type', '')), fc.string({ maxLength: 20 }), { maxKeys: 4 }),
    fc.oneof(wrongType, fc.dictionary(fc.string({ maxLength: 5 }), wrongType, { maxKeys: 3 }))
  ),
  partitions: field(
    fc.array(fc.integer({ min: 0, max: 10 }), { minLength: 1, maxLength: 4 }),
    fc.oneof(wrongType, fc.constant([]), fc.constant([1, 1]), fc.array(fc.oneof(fc.integer({ min: -5, max: -1 }), fc.double(), fc.string({ maxLength: 3 })), { minLength: 1, maxLength: 4 }))
  ),
  arrival: field(fc.string({ minLength: 1, maxLength: 20 }), fc.oneof(wrongType, fc.constant(''), fc.constant('x'.repeat(300))))
}, { requiredKeys: [] })

const freeProduceBody: fc.Arbitrary<unknown> = fc.tuple(
  fc.record({
    topic: topicArb,
    messages: field(fc.array(fc.oneof({ weight: 5, arbitrary: messageArb }, { weight: 1, arbitrary: wrongType }), { maxLength: 4 }), fc.oneof(wrongType, fc.constant([]))),
    options: field(fc.record({
      acks: field(fc.constantFrom(-1, 0, 1), fc.oneof(fc.integer({ min: -3, max: 3 }), wrongType)),
      timeout: field(fc.integer({ min: 1, max: 300_000 }), fc.oneof(fc.integer({ min: -10, max: 0 }), fc.constant(300_001), fc.double(), wrongType)),
      compression: field(fc.constantFrom('none', 'gzip', 'snappy', 'lz4', 'zstd'), fc.oneof(fc.string({ maxLength: 6 }), wrongType))
    }, { requiredKeys: [] }), wrongType)
  }, { requiredKeys: [] }),
  messageArb,
  unknownFields
).map(([top, single, extra]) => ({ ...extra, ...single, ...top }))

const groupIdArb = fc.oneof(
  { weight: 4, arbitrary: fc.nat().map(n => `fuzz-g-${n.toString(36)}`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom('', 'a b', 'x'.repeat(250), 'ü', 'constructor', 'toString', 'hasOwnProperty', 'a/b', 'g\r\n') }
)

const urlArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('file:///etc/passwd', 'ftp://x/', 'javascript:alert(1)', 'data:text/plain,hi', 'gopher://x/', 'ws://x/',
      'http://user:pw@h/', 'http://', 'not a url', 'http://[::1', '//x/', 'http://x:99999/', 'http://169.254.169.254/latest/meta-data', 'http://x/' + 'a'.repeat(3000))
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: wrongType }
)

const secretArb = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 40 }).map(b => `whsec_${Buffer.from(b).toString('base64')}`),
  fc.string({ maxLength: 20 }),
  fc.constantFrom('whsec_', 'whsec_!!!', 'whsec_' + 'A'.repeat(2100))
)

const webhookArb = fc.record({
  url: urlArb,
  headers: field(
    fc.dictionary(
      fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('content-type', 'Host', 'webhook-signature', 'a\r\nb', 'x\u0000', 'Authorization', 'x y', '')),
      fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('a\r\nInjected: 1', 'nul\u0000', 'Bearer s3cr3t', 'x'.repeat(9000))),
      { maxKeys: 4 }
    ),
    fc.oneof(wrongType, fc.dictionary(fc.string({ maxLength: 5 }), wrongType, { maxKeys: 2 }))
  ),
  secrets: field(fc.array(secretArb, { maxLength: 6 }), wrongType),
  timeoutMs: field(fc.integer({ min: 100, max: 300_000 }), fc.oneof(fc.integer({ min: -10, max: 99 }), fc.double(), wrongType)),
  maxAttempts: field(fc.integer({ min: 1, max: 1000 }), fc.oneof(fc.integer({ min: -10, max: 0 }), wrongType)),
  maxRetryDurationMs: field(fc.integer({ min: 0, max: 1e9 }), fc.oneof(fc.constant(-1), wrongType)),
  nonRetryableStatuses: field(fc.array(fc.integer({ min: 100, max: 599 }), { maxLength: 5 }), fc.oneof(fc.array(fc.integer({ min: 600, max: 1000 }), { minLength: 1, maxLength: 2 }), wrongType)),
  deadLetterTopic: field(fc.oneof(topicArb, fc.constant(false)), fc.oneof(fc.constant(true), wrongType))
}, { requiredKeys: [] })

const definitionArb: fc.Arbitrary<unknown> = fc.tuple(
  fc.record({
    isPartitionAssign: field(fc.boolean(), wrongType),
    fromBeginning: field(fc.boolean(), wrongType),
    topics: field(
      fc.array(fc.oneof({ weight: 5, arbitrary: fc.record({ name: topicArb, partitions: field(fc.array(fc.integer({ min: -2, max: 5 }), { maxLength: 3 }), wrongType) }, { requiredKeys: [] }) }, { weight: 1, arbitrary: wrongType }), { maxLength: 3 }),
      wrongType
    ),
    webhook: field(webhookArb, wrongType),
    clientIds: field(fc.array(anyString, { maxLength: 3 }), wrongType),
    concurrency: field(fc.integer({ min: 1, max: 256 }), fc.oneof(fc.integer({ min: -3, max: 0 }), fc.constant(257), wrongType)),
    consumer: field(fc.record({
      sessionTimeoutMs: field(fc.integer({ min: 6000, max: 60_000 }), wrongType),
      heartbeatIntervalMs: field(fc.integer({ min: 100, max: 70_000 }), wrongType),
      rebalanceTimeoutMs: field(fc.integer({ min: 1000, max: 60_000 }), wrongType),
      maxWaitTimeMs: field(fc.integer({ min: 10, max: 30_000 }), wrongType)
    }, { requiredKeys: [] }), wrongType)
  }, { requiredKeys: [] }),
  unknownFields
).map(([def, extra]) => ({ ...extra, ...def }))

const freeGroupsBody: fc.Arbitrary<unknown> = fc.dictionary(groupIdArb, fc.oneof({ weight: 6, arbitrary: definitionArb }, { weight: 1, arbitrary: wrongType }), { minKeys: 0, maxKeys: 3 })

// Near-valid bodies: a well-formed body with one or two mutations, so the checks behind the schema
// (topic names, base64, reserved headers, webhook URL and header policy, secrets...) are reached too.

type Json = Record<string, unknown>
type Mutation = (body: Json) => void

const absentTopic = fc.nat().map(n => `fuzz-absent-${n.toString(36)}`)
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Json : {})

function mutated (base: fc.Arbitrary<Json>, mutations: fc.Arbitrary<Mutation>): fc.Arbitrary<Json> {
  return fc.tuple(base, fc.array(mutations, { minLength: 1, maxLength: 2 })).map(([b, ms]) => {
    const body = structuredClone(b)
    for (const m of ms) m(body)
    return body
  })
}

const messageMutation: fc.Arbitrary<(m: Json) => void> = fc.oneof(
  fc.constantFrom<Mutation>(m => { delete m.value }, m => { m.value = undefined }),
  wrongType.map<Mutation>(v => m => { m.key = v }),
  fc.string({ maxLength: 12 }).map<Mutation>(v => m => { m.valueEncoding = 'base64'; m.value = `${v}!` }),
  fc.string({ maxLength: 12 }).map<Mutation>(v => m => { m.keyEncoding = 'base64'; m.key = `*${v}` }),
  fc.oneof(fc.jsonValue({ maxDepth: 2 }), wrongType).map<Mutation>(v => m => { m.valueEncoding = 'text'; m.value = v }),
  fc.constantFrom('content-type', 'Departure', 'X-REQUEST-ID', 'arrival', 'key-encoding', '', 'x'.repeat(256)).map<Mutation>(h => m => { m.headers = { [h]: 'v' } }),
  wrongType.map<Mutation>(v => m => { m.headers = { h: v } }),
  fc.constantFrom<unknown>([], [-1], [0, 0], [1.5], ['0'], 0, null, Array.from({ length: 1001 }, (_v, i) => i)).map<Mutation>(v => m => { m.partitions = v }),
  fc.constantFrom<unknown>('', 'x'.repeat(256), 7, null).map<Mutation>(v => m => { m.arrival = v }),
  fc.tuple(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 1 })).map<Mutation>(([k, v]) => m => { m[`${k}_unknown`] = v })
)

const produceMutation: fc.Arbitrary<Mutation> = fc.oneof(
  messageMutation,
  topicArb.map<Mutation>(v => b => { b.topic = v }),
  fc.constantFrom<Mutation>(b => { delete b.topic }),
  fc.record({ acks: fc.oneof(fc.constantFrom<unknown>(2, -2, '1', null, 0.5), wrongType) }).map<Mutation>(o => b => { b.options = o }),
  fc.record({ timeout: fc.constantFrom<unknown>(0, -1, 300_001, 1.5, '100') }).map<Mutation>(o => b => { b.options = o }),
  fc.record({ compression: fc.constantFrom<unknown>('brotli', 'GZIP', '', 1) }).map<Mutation>(o => b => { b.options = o }),
  wrongType.map<Mutation>(v => b => { b.options = v }),
  // the batch form, with a single-form field left at the top or a damaged message
  fc.array(messageMutation, { minLength: 1, maxLength: 2 }).map<Mutation>(ms => b => {
    const message: Json = { value: b.value ?? 1 }
    for (const m of ms) m(message)
    b.messages = [{ value: 'ok' }, message]
    if (Object.keys(b).length % 2 === 0) delete b.value
  }),
  fc.constantFrom<unknown>([], {}, [null], [[]], 'm', Array.from({ length: 10_001 }, () => ({ value: 1 }))).map<Mutation>(v => b => { delete b.value; b.messages = v })
)

const validMessageBody: fc.Arbitrary<Json> = fc.record({
  topic: absentTopic,
  value: fc.jsonValue({ maxDepth: 3 }),
  key: option(fc.string({ maxLength: 20 })),
  headers: option(fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }).map(k => `x-${k}`), fc.string({ maxLength: 20 }), { maxKeys: 3 }))
}, { requiredKeys: ['topic', 'value'] }).map(b => b as Json)

const produceBodyArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: mutated(validMessageBody, produceMutation) },
  { weight: 1, arbitrary: freeProduceBody }
)

const definitionMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constantFrom('isPartitionAssign', 'topics', 'webhook').map<Mutation>(k => d => { delete d[k] }),
  fc.tuple(fc.constantFrom('isPartitionAssign', 'fromBeginning', 'topics', 'webhook', 'clientIds', 'concurrency', 'consumer'), wrongType).map<Mutation>(([k, v]) => d => { d[k] = v }),
  urlArb.map<Mutation>(u => d => { obj(d.webhook).url = u }),
  fc.dictionary(
    fc.oneof(fc.constantFrom('a\r\nb', 'x\u0000', 'x y', '', 'Host', 'content-type', 'Webhook-Signature', 'user-agent', 'x'.repeat(300)), fc.string({ maxLength: 8 })),
    fc.oneof(fc.constantFrom('a\r\nInjected: 1', 'nul\u0000', 'tab\tok', 'x'.repeat(9000), 'Bearer s3cr3t'), fc.string({ maxLength: 12 })),
    { minKeys: 1, maxKeys: 3 }
  ).map<Mutation>(h => d => { obj(d.webhook).headers = h }),
  fc.constant<Mutation>(d => { obj(d.webhook).headers = Object.fromEntries(Array.from({ length: 40 }, (_v, i) => [`x-h${i}`, 'v'])) }),
  fc.constant<Mutation>(d => { obj(d.webhook).headers = { 'X-Dup': 'a', 'x-dup': 'b' } }),
  fc.array(secretArb, { minLength: 1, maxLength: 6 }).map<Mutation>(ss => d => { obj(d.webhook).secrets = ss }),
  fc.tuple(fc.constantFrom('timeoutMs', 'maxAttempts', 'maxRetryDurationMs', 'nonRetryableStatuses', 'deadLetterTopic'), fc.oneof(fc.constantFrom<unknown>(-1, 0, 99, 1e12, [], [99], [600], true, '', '..'), wrongType))
    .map<Mutation>(([k, v]) => d => { obj(d.webhook)[k] = v }),
  fc.constant<Mutation>(d => { const t0 = obj((d.topics as unknown[] | undefined)?.[0]); obj(d.webhook).deadLetterTopic = t0.name }),
  topicArb.map<Mutation>(v => d => { obj((d.topics as unknown[] | undefined)?.[0]).name = v }),
  fc.constant<Mutation>(d => { const t0 = (d.topics as unknown[] | undefined)?.[0]; d.topics = [t0, t0] }),
  fc.constantFrom<unknown>([], [-1], [0, 0], [2147483648], null).map<Mutation>(p => d => { obj((d.topics as unknown[] | undefined)?.[0]).partitions = p }),
  fc.constant<Mutation>(d => { d.isPartitionAssign = !(d.isPartitionAssign === true) }),
  fc.constant<Mutation>(d => { d.isAssignPartition = d.isPartitionAssign }),
  fc.record({ sessionTimeoutMs: fc.integer({ min: 6000, max: 10_000 }), heartbeatIntervalMs: fc.integer({ min: 10_000, max: 20_000 }) }).map<Mutation>(c => d => { d.consumer = c }),
  fc.constantFrom<unknown>([], [''], ['a b'], ['x'.repeat(256)], 'gw').map<Mutation>(c => d => { d.clientIds = c }),
  fc.tuple(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 1 })).map<Mutation>(([k, v]) => d => { d[`${k}_unknown`] = v })
)

const validGroupId = fc.oneof({ weight: 6, arbitrary: fc.nat().map(n => `fuzz-g-${n.toString(36)}`) }, { weight: 1, arbitrary: groupIdArb })

const validDefinition: fc.Arbitrary<Json> = fc.tuple(
  fc.boolean(),
  fc.array(absentTopic, { minLength: 1, maxLength: 2 }),
  fc.constantFrom('http://127.0.0.1:9/hook', 'https://hooks.example.com/x', 'http://[::1]:9/'),
  option(fc.boolean())
).map(([isPartitionAssign, topics, url, fromBeginning]) => ({
  isPartitionAssign,
  topics: topics.map(name => (isPartitionAssign ? { name, partitions: [0] } : { name })),
  webhook: { url },
  ...(fromBeginning === undefined ? {} : { fromBeginning })
}))

const groupsBodyArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(validGroupId, mutated(validDefinition, definitionMutation), option(fc.tuple(groupIdArb, validDefinition))).map(([id, def, other]) => ({ [id]: def, ...(other === undefined ? {} : { [other[0]]: other[1] }) })) },
  { weight: 1, arbitrary: freeGroupsBody }
)

const validCreateBody: fc.Arbitrary<Json> = fc.record({
  name: absentTopic,
  partitions: option(fc.integer({ min: 1, max: 10_000 })),
  replicationFactor: fc.integer({ min: 1000, max: 32_767 }),
  configs: option(fc.dictionary(fc.constantFrom('retention.ms', 'cleanup.policy', 'max.message.bytes', 'segment.ms', 'no.such.config'), fc.string({ maxLength: 12 }), { maxKeys: 3 }))
}, { requiredKeys: ['name', 'replicationFactor'] }).map(b => b as Json)

const createMutation: fc.Arbitrary<Mutation> = fc.oneof(
  topicArb.map<Mutation>(v => b => { b.name = v }),
  fc.constant<Mutation>(b => { delete b.name }),
  fc.tuple(fc.constantFrom('partitions', 'replicationFactor'), fc.oneof(fc.constantFrom<unknown>(0, -1, 1.5, '3', null, 10_001, 32_768, 2 ** 31), wrongType)).map<Mutation>(([k, v]) => b => { b[k] = v }),
  fc.oneof(
    wrongType,
    fc.dictionary(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('', 'a b', 'x'.repeat(300), '__proto__', 'retention.ms')), fc.oneof(fc.string({ maxLength: 10 }), wrongType, fc.constant('x'.repeat(40_000))), { maxKeys: 3 })
  ).map<Mutation>(c => b => { b.configs = c }),
  fc.constant<Mutation>(b => { b.configs = Object.fromEntries(Array.from({ length: 101 }, (_v, i) => [`c${i}`, '1'])) }),
  fc.tuple(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 1 })).map<Mutation>(([k, v]) => b => { b[`${k}_unknown`] = v })
)

const freeCreateBody: fc.Arbitrary<unknown> = fc.tuple(
  fc.record({ name: topicArb, partitions: field(fc.integer({ min: 1, max: 100 }), wrongType), replicationFactor: field(fc.integer({ min: 1000, max: 32_767 }), wrongType), configs: field(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }), wrongType) }, { requiredKeys: [] }),
  unknownFields
).map(([body, extra]) => ({ ...extra, ...body }))

/** A creation the cluster must refuse before anything is created: more replicas than any test cluster has brokers, unless already invalid. */
function neverCreates (body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body
  const rf = (body as Json).replicationFactor
  return rf === undefined || (Number.isInteger(rf) && (rf as number) >= 1 && (rf as number) < 1000) ? { ...body, replicationFactor: 1000 } : body
}

const createBodyArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: mutated(validCreateBody, createMutation) },
  { weight: 1, arbitrary: freeCreateBody }
).map(neverCreates)

/** Bytes that are not UTF-8: stray continuation, overlong, surrogate, beyond U+10FFFF, truncated sequences. */
const invalidUtf8 = fc.oneof(
  fc.constantFrom([0xff], [0xfe, 0xff], [0x80], [0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80]),
  fc.array(fc.integer({ min: 0x80, max: 0xff }), { minLength: 1, maxLength: 8 })
)

/** A body of `depth` nested arrays or objects, at the root or under a field. */
function nested (depth: number, kind: 'array' | 'object' | 'mixed'): string {
  if (kind === 'array') return '['.repeat(depth) + ']'.repeat(depth)
  if (kind === 'object') return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
  let open = ''
  let close = ''
  for (let i = 0; i < depth; i++) {
    open += i % 2 === 0 ? '[' : '{"k":'
    close = (i % 2 === 0 ? ']' : '}') + close
  }
  return open + '0' + close
}

const deepBody = (where: Route): fc.Arbitrary<string> => fc.tuple(
  fc.oneof(fc.integer({ min: MAX_BODY_DEPTH - 3, max: MAX_BODY_DEPTH + 3 }), fc.integer({ min: 1000, max: 20_000 })),
  fc.constantFrom<'array' | 'object' | 'mixed'>('array', 'object', 'mixed'),
  fc.nat({ max: 3 })
).map(([depth, kind, slot]) => {
  const deep = nested(depth, kind)
  if (where === 'POST /messages') {
    return [deep, `{"topic":"fuzz-absent-deep","value":${deep}}`, `{"topic":"fuzz-absent-deep","messages":[{"value":${deep}}]}`, `{"topic":"fuzz-absent-deep","value":1,"headers":${deep}}`][slot] ?? deep
  }
  if (where === 'POST /topics') {
    return [deep, `{"name":"fuzz-absent-deep","replicationFactor":1000,"configs":${deep}}`, `{"name":${deep},"replicationFactor":1000}`, `{"name":"fuzz-absent-deep","partitions":${deep}}`][slot] ?? deep
  }
  return [deep, `{"fuzz-g-deep":${deep}}`, `{"fuzz-g-deep":{"isPartitionAssign":false,"topics":[{"name":"fuzz-absent-deep"}],"webhook":{"url":"http://127.0.0.1:9/","headers":${deep}}}}`, `{"g":{"topics":${deep}}}`][slot] ?? deep
})

/** A JSON body, sometimes damaged: truncated, invalid UTF-8 spliced in, garbage, deep, huge, over the limit. */
function bodyArb (objects: fc.Arbitrary<unknown>, route: Route): fc.Arbitrary<string | Buffer> {
  const text = objects.map(o => JSON.stringify(o) ?? 'null')
  const big = (n: number): string => route === 'POST /messages'
    ? JSON.stringify({ topic: 'fuzz-absent-big', value: 'v'.repeat(n) })
    : route === 'POST /topics'
      ? JSON.stringify({ name: 'fuzz-absent-big', replicationFactor: 1000, configs: { 'retention.ms': 'v'.repeat(n) } })
      : JSON.stringify({ 'fuzz-g-big': { isPartitionAssign: false, topics: [{ name: 'fuzz-absent-big' }], webhook: { url: `http://127.0.0.1:9/${'v'.repeat(n)}` } } })
  return fc.oneof(
    { weight: 28, arbitrary: text },
    { weight: 2, arbitrary: fc.tuple(text, fc.nat()).map(([s, n]) => s.slice(0, n % (s.length + 1))) },
    {
      weight: 3,
      arbitrary: fc.tuple(text, invalidUtf8, fc.nat()).map(([s, bytes, n]) => {
        // right after one of the quotes: inside a string literal (still JSON) or just after one (not JSON)
        const quotes = [...s.matchAll(/"/g)].map(m => m.index)
        const at = quotes.length === 0 ? 0 : (quotes[n % quotes.length] ?? 0) + 1
        const buf = Buffer.from(s, 'utf8')
        const cut = Buffer.byteLength(s.slice(0, at))
        return Buffer.concat([buf.subarray(0, cut), Buffer.from(bytes), buf.subarray(cut)])
      })
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map(b => Buffer.from(b)) },
    { weight: 2, arbitrary: deepBody(route) },
    {
      weight: 2,
      arbitrary: fc.constantFrom('', ' ', 'null', '[]', '0', 'true', '"x"', '{', '}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}',
        '\ufeff{}', '{"a":1,"a":2}', 'NaN', '{"value":1e999999}', '[' + '1,'.repeat(5000) + '1]',
        ...(route === 'POST /messages' ? ['{"topic":"fuzz-absent-x","topic":"y"}', '{"topic":"fuzz-absent-x","value":-0}'] : ['{"g":{"isPartitionAssign":false,"isPartitionAssign":true}}', '{"g":{"topics":[{"name":"fuzz-absent-x"}],"webhook":{"url":"http://x/"},"isPartitionAssign":false}}']))
    },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 8 }).map(n => big(n * 100_000)) },
    // over BODY_LIMIT_BYTES: a few, so the test stays fast
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 64 }).map(n => big(BODY_LIMIT + n)) }
  )
}

const contentTypeArb: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 24, arbitrary: fc.constant('application/json') },
  {
    weight: 4,
    arbitrary: fc.constantFrom('application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json; charset=latin1', 'application/json; charset=utf-16',
      'application/json;;', 'text/plain', 'text/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx',
      'application/vnd.api+json', 'application/octet-stream', '', ';', '*/*', 'application/*', 'json', undefined)
  },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 30 }).filter(s => /^[\x21-\x7e][\x20-\x7e]*$/.test(s)) }
)

/** Authorization headers: mostly right (so requests reach validation), sometimes missing, wrong or malformed. */
const authArb: fc.Arbitrary<{ header: string | undefined, ok: boolean }> = fc.oneof(
  { weight: 16, arbitrary: fc.constantFrom({ header: `Bearer ${API_KEY}`, ok: true }, { header: `bearer ${API_KEY}`, ok: true }, { header: `Bearer   ${API_KEY}`, ok: true }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      { header: undefined, ok: false }, { header: '', ok: false }, { header: 'Bearer', ok: false }, { header: 'Bearer ', ok: false },
      { header: `Basic ${Buffer.from(`x:${API_KEY}`).toString('base64')}`, ok: false }, { header: `Bearer ${API_KEY}x`, ok: false },
      { header: `Bearer ${API_KEY.slice(0, -1)}`, ok: false }, { header: `Bearer ${API_KEY.toUpperCase()}`, ok: false },
      { header: `Token ${API_KEY}`, ok: false }, { header: `Bearer ${API_KEY} extra`, ok: false }, { header: API_KEY, ok: false },
      { header: `Bearer ${'k'.repeat(10_000)}`, ok: false }
    )
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).filter(s => /^[\x20-\x7e]*$/.test(s)).map(s => ({ header: `Bearer ${s}`, ok: s.trim() === API_KEY })) }
)

const headerToken = fc.string({ minLength: 1, maxLength: 20 }).filter(s => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(s))
const headerValue = fc.string({ maxLength: 60 }).filter(s => /^[\x20-\x7e]*$/.test(s))

/** Extra request headers: random ones plus the headers the gateway reads (request id, idempotency key...). */
const extraHeadersArb: fc.Arbitrary<Record<string, string>> = fc.tuple(
  fc.dictionary(headerToken, headerValue, { maxKeys: 3 }),
  rarely(fc.oneof(headerValue, fc.constant('x'.repeat(300)), fc.constant('ok-request-id')), 3),
  rarely(fc.oneof(headerValue, fc.constant('k'.repeat(300)), fc.nat().map(n => `fuzz-idem-${n}`)), 4),
  rarely(fc.constantFrom('gzip', 'br', 'deflate', 'identity', 'zz')),
  rarely(fc.constantFrom('0', '1', '5', '999999999', '-1', 'abc'), 12),
  rarely(fc.constantFrom('application/json', 'text/html', '*/*', 'application/xml', ''), 4)
).map(([random, requestId, idem, encoding, length, accept]) => {
  const h: Record<string, string> = {}
  for (const [k, v] of Object.entries(random)) {
    if (!['authorization', 'content-type', 'host', 'content-length', 'transfer-encoding', 'expect', 'connection'].includes(k.toLowerCase())) h[k.toLowerCase()] = v
  }
  if (requestId !== undefined) h['x-request-id'] = requestId
  if (idem !== undefined) h['idempotency-key'] = idem
  if (encoding !== undefined) h['content-encoding'] = encoding
  if (length !== undefined) h['content-length'] = length
  if (accept !== undefined) h.accept = accept
  return h
})

const queryValue = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 20 }).map(encodeURIComponent) },
  { weight: 2, arbitrary: fc.constantFrom('', 'true', 'false', '1', '0', 'yes', '%', '%ff', '%c3%28', '%00', 'a%20b', '..', 'x'.repeat(300), 'fuzz-absent-q', 'a:b') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).filter(s => /^[\x21-\x7e]*$/.test(s) && !s.includes('#')) }
)
const queryKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('clientId', 'groupId', 'topic', 'all', 'replace', 'internal', 'offset', 'limit') },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'x', 'a[b]', 'groupId[]', '', 'ALL') },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }).map(encodeURIComponent) }
)
const queryArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constant('') },
  { weight: 5, arbitrary: fc.array(fc.tuple(queryKey, queryValue), { minLength: 1, maxLength: 5 }).map(pairs => `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`) },
  { weight: 1, arbitrary: fc.constantFrom('?', '?&&', '?=', '?%', '?a=%zz', '?__proto__[x]=1', `?x=${'y'.repeat(5000)}`, `?${Array.from({ length: 500 }, (_v, i) => `k${i}=1`).join('&')}`) }
)

const groupIdPathArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.nat().map(n => `fuzz-absent-${n.toString(36)}`) },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }).map(encodeURIComponent) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('%', '%zz', '%ff', '%c3%28', '%ed%a0%80', '%00', '..', '.', '', 'a%2Fb', '%2e%2e', 'x'.repeat(249), 'x'.repeat(250),
      'x'.repeat(256), 'x'.repeat(257), 'x'.repeat(5000), 'a b', 'a;b', 'a?b=1', '%E2%82%AC')
  }
)

const bodyRoutes = new Set<Route>(['POST /messages', 'POST /consumer-groups', 'POST /topics'])

const partitionPathArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.nat({ max: 20 }).map(String) },
  { weight: 2, arbitrary: fc.constantFrom('-1', '1.5', 'x', '', '%00', '%', '2147483647', '2147483648', '99999999999999999999', '0x1', '1e3', ' 1') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map(encodeURIComponent) }
)

/** Base path of the routes that take no path parameter. */
const BASE: Partial<Record<Route, string>> = {
  'GET /consumer-groups': '/consumer-groups', 'GET /consumers': '/consumers', 'GET /openapi.json': '/openapi.json', 'GET /metrics': '/metrics', 'GET /topics': '/topics'
}

/** POST routes take no query (but `?replace=true`): mostly none, so the body is what is judged. */
const postQueryArb = fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constant('?replace=true') }, { weight: 1, arbitrary: queryArb })

function requestArb (route: Route, bodyOnly = false): fc.Arbitrary<FuzzRequest> {
  const common = bodyOnly
    ? fc.record({ auth: fc.constant({ header: `Bearer ${API_KEY}`, ok: true }), extra: fc.constant({}), query: fc.constantFrom('', '?replace=true'), contentType: fc.constant('application/json') })
    : fc.record({ auth: authArb, extra: extraHeadersArb, query: bodyRoutes.has(route) ? postQueryArb : queryArb, contentType: contentTypeArb })
  let shape: fc.Arbitrary<{ method: HTTPMethods, path: string, payload: string | Buffer | undefined }>
  const maybeBody = rarely(fc.oneof(fc.string({ maxLength: 50 }), fc.constant('{"a":'), fc.constant('{}')), 4)
  switch (route) {
    case 'POST /messages':
    case 'POST /consumer-groups':
    case 'POST /topics': {
      const path = route === 'POST /messages' ? '/messages' : route === 'POST /topics' ? '/topics' : '/consumer-groups'
      const body = bodyArb(route === 'POST /messages' ? produceBodyArb : route === 'POST /topics' ? createBodyArb : groupsBodyArb, route)
      shape = bodyOnly
        ? fc.record({ method: fc.constant<HTTPMethods>('POST'), path: fc.constant(path), payload: body })
        : fc.record({
          method: fc.oneof({ weight: 12, arbitrary: fc.constant<HTTPMethods>('POST') }, { weight: 1, arbitrary: fc.constantFrom<HTTPMethods>('PUT', 'PATCH', 'DELETE') }),
          path: fc.constant(path),
          payload: fc.oneof({ weight: 12, arbitrary: body }, { weight: 1, arbitrary: fc.constant(undefined) })
        })
      break
    }
    case 'GET /consumer-groups/{id}':
      shape = fc.record({
        method: fc.oneof({ weight: 8, arbitrary: fc.constant<HTTPMethods>('GET') }, { weight: 1, arbitrary: fc.constantFrom<HTTPMethods>('HEAD', 'DELETE', 'PUT') }),
        path: groupIdPathArb.map(id => `/consumer-groups/${id}`),
        payload: maybeBody
      })
      break
    case 'GET /topics/{topic}':
    case 'DELETE /topics/{topic}':
      shape = fc.record({
        method: fc.oneof({ weight: 8, arbitrary: fc.constant<HTTPMethods>(route === 'GET /topics/{topic}' ? 'GET' : 'DELETE') }, { weight: 1, arbitrary: fc.constantFrom<HTTPMethods>('HEAD', 'PUT', 'PATCH', 'POST') }),
        path: groupIdPathArb.map(id => `/topics/${id}`),
        payload: maybeBody
      })
      break
    case 'GET /topics/{topic}/partitions/{p}/offsets':
    case 'GET /topics/{topic}/partitions/{p}/records': {
      const leaf = route.endsWith('/offsets') ? 'offsets' : 'records'
      shape = fc.record({
        method: fc.oneof({ weight: 8, arbitrary: fc.constant<HTTPMethods>('GET') }, { weight: 1, arbitrary: fc.constantFrom<HTTPMethods>('HEAD', 'DELETE', 'POST') }),
        path: fc.tuple(groupIdPathArb, partitionPathArb).map(([id, p]) => `/topics/${id}/partitions/${p}/${leaf}`),
        payload: maybeBody
      })
      break
    }
    case 'GET /health/*':
      shape = fc.record({
        method: fc.oneof({ weight: 6, arbitrary: fc.constant<HTTPMethods>('GET') }, { weight: 1, arbitrary: fc.constantFrom<HTTPMethods>('HEAD', 'POST') }),
        path: fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom('/health/live', '/health/ready') },
          fc.constantFrom( '/health/', '/health', '/health/x', '/health/live/', '/health/LIVE', '/health/%', '/health/live%00', '/health/../consumers', '/health//live', '/health/%2e%2e/consumers'),
          fc.string({ maxLength: 20 }).map(s => `/health/${encodeURIComponent(s)}`)
        ),
        payload: maybeBody
      })
      break
    case 'DELETE /consumers':
      shape = fc.record({
        method: fc.oneof({ weight: 8, arbitrary: fc.constant<HTTPMethods>('DELETE') }, { weight: 1, arbitrary: fc.constantFrom<HTTPMethods>('PUT', 'PATCH') }),
        path: fc.oneof({ weight: 6, arbitrary: fc.constant('/consumers') }, { weight: 1, arbitrary: fc.constantFrom('/consumers/', '/consumers/x', '/Consumers') }),
        payload: maybeBody
      })
      break
    default: {
      const base = BASE[route] ?? '/metrics'
      shape = fc.record({
        method: fc.oneof({ weight: 8, arbitrary: fc.constant<HTTPMethods>('GET') }, { weight: 1, arbitrary: fc.constantFrom<HTTPMethods>('HEAD', 'OPTIONS', 'PATCH', 'POST') }),
        path: fc.oneof({ weight: 6, arbitrary: fc.constant(base) }, { weight: 2, arbitrary: fc.constantFrom(`${base}/`, `${base}%`, `${base}%00`, base.toUpperCase(), `/${base}`, `${base}/..`) }),
        payload: maybeBody
      })
    }
  }
  return fc.tuple(common, shape).map(([c, s]) => {
    const headers: Record<string, string> = { ...c.extra }
    if (c.auth.header !== undefined) headers.authorization = c.auth.header
    const hasBody = s.payload !== undefined
    if (c.contentType !== undefined && (hasBody || bodyRoutes.has(route))) headers['content-type'] = c.contentType
    // only some requests carry a lying content-length; light-my-request computes the right one otherwise
    if (!hasBody) delete headers['content-length']
    const req: FuzzRequest = { route, method: s.method, url: `${s.path}${c.query}`, headers, authorized: c.auth.ok }
    if (hasBody) req.payload = s.payload
    // counterexamples stay readable: long bodies are cut in the report (the seed and path replay them whole)
    Object.defineProperty(req, fc.toStringMethod, { value: () => describe(req), enumerable: false })
    return req
  })
}

function describe (req: FuzzRequest): string {
  const cut = (text: string): string => (text.length > 400 ? `${text.slice(0, 400)}… (${text.length} characters)` : text)
  const payload = req.payload === undefined
    ? 'no body'
    : Buffer.isBuffer(req.payload) ? `bytes ${cut(req.payload.toString('hex'))}` : cut(JSON.stringify(req.payload))
  return `${req.method} ${cut(req.url)} headers ${cut(JSON.stringify(req.headers))} ${payload}`
}

// ---------------------------------------------------------------- the property

interface Tally { requests: number, byRoute: Map<string, Map<number, number>>, byStatus: Map<number, number>, rules: Map<string, number>, slipped2xx: number, unavailable: number }

const tally: Tally = { requests: 0, byRoute: new Map(), byStatus: new Map(), rules: new Map(), slipped2xx: 0, unavailable: 0 }

function count (route: string, status: number): void {
  tally.requests++
  const statuses = tally.byRoute.get(route) ?? new Map<number, number>()
  statuses.set(status, (statuses.get(status) ?? 0) + 1)
  tally.byRoute.set(route, statuses)
  tally.byStatus.set(status, (tally.byStatus.get(status) ?? 0) + 1)
  if (status === 503) tally.unavailable++
}

const isHealthRoute = (path: string): boolean => path === '/health/live' || path === '/health/ready'

/** POST /topics/{topic}[/partitions/{p}]: the Confluent REST Proxy v2 produce routes. */
const isConfluentProduce = (method: string, path: string): boolean =>
  // a `.` or `..` segment is resolved away before routing (`/topics/..` is POST /topics)
  method === 'POST' && /^\/topics\/[^/]*(\/partitions\/[^/]*)?\/?$/.test(path) && !path.split('/').some(seg => seg === '.' || seg === '..')

function confluentErrorProblem (body: string, contentType: string | string[] | number | undefined): string | undefined {
  if (typeof contentType !== 'string' || !contentType.startsWith('application/vnd.kafka.v2+json')) return `content-type is ${String(contentType)}`
  const parsed = JSON.parse(body) as Record<string, unknown>
  if (!Number.isInteger(parsed.error_code) || typeof parsed.message !== 'string' || Object.keys(parsed).length !== 2) return 'not { error_code, message }'
  return undefined
}

/** Throws (so fast-check shrinks and reports) when an answer breaks the contract. */
function checkAnswer (req: Pick<FuzzRequest, 'route' | 'method' | 'url' | 'authorized'>, status: number, headers: Record<string, string | string[] | number | undefined>, body: string, authRule = true): void {
  count(req.route, status)
  if (process.env.FUZZ_DEBUG === req.route) console.error(`${status} ${req.method} ${req.url.slice(0, 60)} ${body.slice(0, 160)}`)
  const where = `${req.method} ${req.url.slice(0, 120)} → ${status} ${body.slice(0, 300)}`
  if (status >= 500 && status !== 503) throw new Error(`5xx: ${where}`)
  if (body.includes(API_KEY)) throw new Error(`the API key is echoed: ${where}`)
  const path = req.url.split('?')[0] ?? ''
  if (path === '/health/ready' && status === 503 && req.method !== 'HEAD') {
    // readiness answers 503 with its own documented body, naming what failed
    const ready = JSON.parse(body) as { status?: unknown, failed?: unknown }
    if (ready.status !== 'unavailable' || !Array.isArray(ready.failed) || ready.failed.length === 0) throw new Error(`readiness 503 without the failed dependencies: ${where}`)
  } else if (status >= 400 && req.method !== 'HEAD' && isConfluentProduce(req.method, path) && status !== 401 && status !== 403) {
    // Confluent v2 produce answers Confluent's own error shape (its 401/403 come from the API-key check, in ours)
    const problem = confluentErrorProblem(body, headers['content-type'])
    if (problem !== undefined) throw new Error(`not Confluent's error shape (${problem}): ${where}`)
  } else if (status >= 400 && req.method !== 'HEAD') {
    const problem = errorShapeProblem(status, body, headers['content-type'])
    if (problem !== undefined) throw new Error(`not the error shape (${problem}): ${where}`)
    const err = JSON.parse(body) as ErrorBody
    const rule = `${err.code}${err.details?.[0]?.rule !== undefined ? `/${err.details[0].rule}` : ''}`
    tally.rules.set(rule, (tally.rules.get(rule) ?? 0) + 1)
    if (status === 503 && !/^GW_(KAFKA|REDIS)_UNAVAILABLE$|^GW_KAFKA_TIMEOUT$/.test(err.code)) throw new Error(`503 without a dependency code: ${where}`)
  }
  if (status === 401 && headers['www-authenticate'] !== 'Bearer') throw new Error(`401 without www-authenticate: Bearer: ${where}`)
  if (authRule && !isHealthRoute(path)) {
    if (!req.authorized && status !== 401) {
      // only URLs the router cannot decode are refused (400) before the API key is looked at
      const early = status === 400 && (req.method === 'HEAD' || /"field":"(url|params)"/.test(body))
      if (!early) throw new Error(`no 401 without the right API key: ${where}`)
    }
    if (req.authorized && status === 401) throw new Error(`401 with the right API key: ${where}`)
  }
  if (status >= 200 && status < 300 && bodyRoutes.has(req.route)) tally.slipped2xx++
}

async function inject (app: FastifyInstance, req: FuzzRequest): Promise<void> {
  const res = await app.inject({ method: req.method, url: req.url, headers: req.headers, ...(req.payload !== undefined ? { payload: req.payload } : {}) })
  checkAnswer(req, res.statusCode, res.headers, res.body)
}

function heapAfterGc (): number {
  let gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) {
    setFlagsFromString('--expose-gc')
    gc = runInNewContext('gc') as () => void
  }
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const MiB = 1024 * 1024

t.test('every route survives random malformed requests', async t => {
  t.comment(`fast-check seed ${SEED} (set FUZZ_SEED to replay another), scale ${SCALE}`)
  const app = await build(t, { API_KEYS: `other-key,${API_KEY}`, BODY_LIMIT_BYTES: String(BODY_LIMIT) })
  const started = Date.now()

  // warm-up: every route, compiled schemas, metadata client and pools exist before the heap is measured
  const mixed = fc.oneof(...ROUTES.map(r => requestArb(r)))
  await fc.assert(fc.asyncProperty(mixed, async req => { await inject(app, req) }), { seed: SEED + 1, numRuns: 60, endOnFailure: true })
  const heapBefore = heapAfterGc()

  for (const route of ROUTES) {
    const before = tally.requests
    await fc.assert(fc.asyncProperty(requestArb(route), async req => { await inject(app, req) }), { seed: SEED, numRuns: RUNS[route] * SCALE, endOnFailure: true })
    if (bodyRoutes.has(route)) {
      await fc.assert(fc.asyncProperty(requestArb(route, true), async req => { await inject(app, req) }), { seed: SEED, numRuns: BODY_RUNS * SCALE, endOnFailure: true })
    }
    t.pass(`${route}: ${tally.requests - before} random requests, no 5xx, every error in the shape`)
  }

  await t.test('fixed cases: 10 000 levels of nesting, invalid UTF-8, over the body limit', async t => {
    const json = { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` }
    const cases: Array<{ name: string, route: Route, url: string, payload: string | Buffer, status: number, field?: string }> = [
      { name: '10 000 nested arrays as the body', route: 'POST /messages', url: '/messages', payload: nested(10_000, 'array'), status: 400 },
      { name: '10 000 nested arrays as the value', route: 'POST /messages', url: '/messages', payload: `{"topic":"fuzz-absent-x","value":${nested(10_000, 'array')}}`, status: 400, field: 'body/value' },
      { name: '10 000 nested objects in a batch', route: 'POST /messages', url: '/messages', payload: `{"topic":"fuzz-absent-x","messages":[{"value":${nested(10_000, 'object')}}]}`, status: 400, field: 'body/messages' },
      { name: '10 000 nested arrays in a group', route: 'POST /consumer-groups', url: '/consumer-groups', payload: `{"g":${nested(10_000, 'array')}}`, status: 400, field: 'body/g' },
      { name: `${MAX_BODY_DEPTH} levels (the bound) pass to the topic check`, route: 'POST /messages', url: '/messages', payload: `{"topic":"fuzz-absent-x","value":${nested(MAX_BODY_DEPTH - 1, 'array')}}`, status: 404 },
      { name: `${MAX_BODY_DEPTH + 1} levels are refused`, route: 'POST /messages', url: '/messages', payload: `{"topic":"fuzz-absent-x","value":${nested(MAX_BODY_DEPTH, 'array')}}`, status: 400, field: 'body/value' },
      { name: '10 000 nested objects in topic configs', route: 'POST /topics', url: '/topics', payload: `{"name":"fuzz-absent-x","configs":${nested(10_000, 'object')}}`, status: 400, field: 'body/configs' },
      { name: 'invalid UTF-8 in the topic', route: 'POST /messages', url: '/messages', payload: Buffer.concat([Buffer.from('{"topic":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('","value":1}')]), status: 400, field: 'body/topic' },
      { name: 'invalid UTF-8 in a group id', route: 'POST /consumer-groups', url: '/consumer-groups', payload: Buffer.concat([Buffer.from('{"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('":{}}')]), status: 400 },
      { name: 'one byte over the body limit', route: 'POST /messages', url: '/messages', payload: `{"topic":"x","value":"${'v'.repeat(BODY_LIMIT - 21)}"}`, status: 413 }
    ]
    for (const c of cases) {
      const res = await app.inject({ method: 'POST', url: c.url, headers: json, payload: c.payload })
      checkAnswer({ route: c.route, method: 'POST', url: c.url, authorized: true }, res.statusCode, res.headers, res.body)
      t.equal(res.statusCode, c.status, c.name)
      if (c.field !== undefined) t.equal((res.json() as ErrorBody).details?.[0]?.field, c.field, `${c.name}: names ${c.field}`)
    }
  })

  await t.test('over a real socket: random bytes, duplicate headers and malformed HTTP', async t => {
    await app.listen({ port: 0, host: '127.0.0.1' })
    const port = (app.server.address() as AddressInfo).port
    const client = new Client(`http://127.0.0.1:${port}`, { pipelining: 1 })
    t.teardown(() => client.close())

    const bytesArb = fc.record({
      route: fc.constantFrom<Route>('POST /messages', 'POST /consumer-groups'),
      contentType: contentTypeArb,
      body: fc.oneof(
        fc.uint8Array({ maxLength: 2000 }).map(b => Buffer.from(b)),
        fc.tuple(invalidUtf8, fc.string({ maxLength: 30 })).map(([bad, s]) => Buffer.concat([Buffer.from(`{"topic":"fuzz-absent-${s.length}","value":"`), Buffer.from(bad), Buffer.from(`${s.replace(/["\\]/g, '')}"}`)]))
      )
    })
    await fc.assert(fc.asyncProperty(bytesArb, async ({ route, contentType, body }) => {
      const path = route === 'POST /messages' ? '/messages' : '/consumer-groups'
      const headers: Record<string, string> = { authorization: `Bearer ${API_KEY}` }
      if (contentType !== undefined) headers['content-type'] = contentType
      const res = await client.request({ method: 'POST', path, headers, body })
      const text = await res.body.text()
      checkAnswer({ route, method: 'POST', url: path, authorized: true }, res.statusCode, res.headers, text)
    }), { seed: SEED, numRuns: 40, endOnFailure: true })
    t.pass('40 random byte bodies over the socket')

    const auth = `Authorization: Bearer ${API_KEY}\r\n`
    const raw: Array<{ name: string, route: Route, data: string | Buffer, expect: number | 'any4xx' }> = [
      { name: 'garbage request line', route: 'GET /health/*', data: 'GARBAGE\r\n\r\n', expect: 400 },
      { name: 'CR inside a header value', route: 'GET /consumers', data: `GET /consumers HTTP/1.1\r\nHost: x\r\n${auth}X-A: a\rb\r\n\r\n`, expect: 400 },
      { name: 'NUL inside a header value', route: 'GET /consumers', data: `GET /consumers HTTP/1.1\r\nHost: x\r\n${auth}X-A: a\u0000b\r\n\r\n`, expect: 400 },
      { name: 'space before the colon', route: 'GET /consumers', data: `GET /consumers HTTP/1.1\r\nHost: x\r\n${auth}X-A : b\r\n\r\n`, expect: 400 },
      { name: 'two different Content-Lengths', route: 'POST /messages', data: `POST /messages HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`, expect: 400 },
      { name: 'Content-Length and chunked together (smuggling)', route: 'POST /messages', data: `POST /messages HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`, expect: 400 },
      { name: 'bad chunk size', route: 'POST /messages', data: `POST /messages HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`, expect: 400 },
      { name: 'chunked body over the limit', route: 'POST /messages', data: `POST /messages HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${`100000\r\n${'a'.repeat(0x100000)}\r\n`.repeat(2)}0\r\n\r\n`, expect: 413 },
      { name: 'a Content-Length over the limit', route: 'POST /messages', data: `POST /messages HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: ${BODY_LIMIT * 4}\r\n\r\n{}`, expect: 413 },
      { name: '20 KB of headers', route: 'GET /consumers', data: `GET /consumers HTTP/1.1\r\nHost: x\r\n${auth}X-Big: ${'b'.repeat(20_000)}\r\n\r\n`, expect: 431 },
      { name: 'a 20 KB URL', route: 'GET /consumers', data: `GET /consumers?topic=${'t'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n${auth}\r\n`, expect: 431 },
      { name: 'raw non-ASCII bytes in the path', route: 'GET /consumer-groups/{id}', data: Buffer.concat([Buffer.from('GET /consumer-groups/'), Buffer.from([0xff, 0xc3, 0x28]), Buffer.from(` HTTP/1.1\r\nHost: x\r\n${auth}\r\n`)]), expect: 'any4xx' },
      { name: 'absolute-form URL', route: 'GET /consumers', data: `GET http://evil.example/consumers?groupId=%zz HTTP/1.1\r\nHost: x\r\n${auth}\r\n`, expect: 'any4xx' },
      { name: 'asterisk-form on GET', route: 'GET /health/*', data: 'GET * HTTP/1.1\r\nHost: x\r\n\r\n', expect: 'any4xx' },
      { name: 'duplicate Idempotency-Key headers (joined, then refused)', route: 'POST /messages', data: `POST /messages HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nIdempotency-Key: a\r\nIdempotency-Key: b\r\nContent-Length: 35\r\n\r\n{"topic":"fuzz-absent-x","value":1}`, expect: 400 },
      { name: 'duplicate Content-Type headers', route: 'POST /messages', data: `POST /messages HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: text/plain\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`, expect: 'any4xx' },
      { name: 'wrong key first, right key second', route: 'GET /consumers', data: `GET /consumers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n${auth}\r\n`, expect: 401 },
      { name: 'traversal out of /health/ is not a health probe', route: 'GET /consumers', data: 'GET /health/../consumers HTTP/1.1\r\nHost: x\r\n\r\n', expect: 401 },
      { name: 'percent-encoded traversal out of /health/', route: 'GET /consumers', data: 'GET /health/%2e%2e/consumers HTTP/1.1\r\nHost: x\r\n\r\n', expect: 401 }
    ]
    for (const c of raw) {
      const answer = await rawExchange(port, c.data)
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(answer.head)
      t.ok(m, `${c.name}: an HTTP answer (${JSON.stringify(answer.head.slice(0, 60))})`)
      const status = Number(m?.[1] ?? 0)
      checkAnswer({ route: c.route, method: 'GET', url: c.name, authorized: c.expect !== 401 }, status, { 'content-type': answer.contentType, 'www-authenticate': answer.wwwAuthenticate }, answer.body, false)
      if (c.expect === 'any4xx') t.ok(status >= 400 && status < 500, `${c.name}: ${status}`)
      else t.equal(status, c.expect, c.name)
    }
    const after = await client.request({ method: 'GET', path: '/health/live' })
    t.equal(after.statusCode, 200, 'the listener still serves after malformed connections')
    await after.body.dump()
  })

  await t.test('the process is still up, and its heap did not grow without bound', async t => {
    const live = await app.inject({ method: 'GET', url: '/health/live' })
    t.equal(live.statusCode, 200, 'liveness answers')
    const ready = await app.inject({ method: 'GET', url: '/health/ready' })
    t.equal(ready.statusCode, 200, 'readiness answers: Kafka and Redis still reachable')
    const heapAfter = heapAfterGc()
    const growth = heapAfter - heapBefore
    t.comment(`heap after warm-up ${(heapBefore / MiB).toFixed(1)} MiB, after the run ${(heapAfter / MiB).toFixed(1)} MiB (${growth >= 0 ? '+' : ''}${(growth / MiB).toFixed(1)} MiB)`)
    t.ok(growth < 50 * MiB, 'heap growth under 50 MiB')
  })

  await t.test('with Kafka and Redis unreachable: 4xx, or 503 in the error shape', async t => {
    const down = await build(t, { API_KEYS: API_KEY, KAFKA_BROKERS: '127.0.0.1:1', REDIS_URL: 'redis://127.0.0.1:1/0', KAFKA_CONNECTION_TIMEOUT_MS: '300', REGISTRY_HEARTBEAT_MS: '1000' })
    const before = tally.unavailable
    const focused = fc.oneof(...ROUTES.map(r => requestArb(r, bodyRoutes.has(r))))
    await fc.assert(fc.asyncProperty(focused, async req => { await inject(down, req) }), { seed: SEED + 2, numRuns: 80 * SCALE, endOnFailure: true })
    t.ok(tally.unavailable > before, `dependencies down: ${tally.unavailable - before} answers were 503 (the error shape with a Kafka or Redis code; readiness naming what failed)`)
    const live = await down.inject({ method: 'GET', url: '/health/live' })
    t.equal(live.statusCode, 200, 'liveness still answers')
  })

  const statuses = [...tally.byStatus.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')
  t.comment(`${tally.requests} requests in ${((Date.now() - started) / 1000).toFixed(1)} s; statuses ${statuses}`)
  const total = (m: Map<number, number> | undefined): number => [...(m ?? new Map<number, number>()).values()].reduce((a, b) => a + b, 0)
  for (const [r, m] of tally.byRoute) t.comment(`  ${r}: ${total(m)} (${[...m.entries()].sort(([a], [b]) => a - b).map(([st, n]) => `${st}×${n}`).join(' ')})`)
  t.comment(`codes/first rules: ${[...tally.rules.entries()].sort(([, a], [, b]) => b - a).map(([r, n]) => `${r} ${n}`).join(', ')}`)
  t.comment(`well-formed bodies that slipped through with 2xx: ${tally.slipped2xx}; 503 answers: ${tally.unavailable}`)
  t.ok(tally.requests >= 500, `at least 500 requests (${tally.requests})`)
  t.equal(tally.slipped2xx, 0, 'no POST was accepted (every topic is invalid or absent)')
  for (const r of ROUTES) t.ok(total(tally.byRoute.get(r)) >= 20, `${r} got at least 20 requests`)
})

interface RawAnswer { head: string, body: string, contentType: string | undefined, wwwAuthenticate: string | undefined }

/** Writes raw bytes on a fresh connection and reads until the server closes it or one full answer arrived. */
function rawExchange (port: number, data: string | Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      socket.destroy()
      const text = Buffer.concat(chunks).toString('utf8')
      const split = text.indexOf('\r\n\r\n')
      const head = split < 0 ? text : text.slice(0, split)
      const header = (name: string): string | undefined => new RegExp(`^${name}: *(.*)$`, 'im').exec(head)?.[1]?.trim()
      resolve({ head, body: split < 0 ? '' : text.slice(split + 4), contentType: header('content-type'), wwwAuthenticate: header('www-authenticate') })
    }
    const complete = (): boolean => {
      const text = Buffer.concat(chunks).toString('latin1')
      const split = text.indexOf('\r\n\r\n')
      if (split < 0) return false
      const length = /^content-length: *(\d+)/im.exec(text.slice(0, split))?.[1]
      return length !== undefined && text.length - split - 4 >= Number(length)
    }
    socket.on('connect', () => { socket.write(data) })
    socket.on('data', c => { chunks.push(c); if (complete()) finish() })
    socket.on('close', finish)
    socket.on('error', err => { if (chunks.length > 0) finish(); else if (!done) { done = true; reject(err) } })
    socket.setTimeout(10_000, () => finish())
  })
}
