import t from 'tap'
import kafkajs, { type Assigner, type Cluster, type GroupMember, type Logger } from 'kafkajs'
import {
  CUSTOM_ASSIGNER_PROTOCOL,
  declaredPartitionAssigner,
  decodeDeclaration,
  overlappingDeclarations
} from '../../src/kafka/partition-assigner.js'

const { AssignerProtocol } = kafkajs

interface Warning { message: string, extra: object | undefined }

function fakeLogger (warnings: Warning[]): Logger {
  const logger: Logger = {
    info: () => {},
    error: () => {},
    debug: () => {},
    warn: (message, extra) => { warnings.push({ message, extra }) },
    namespace: () => logger,
    setLogLevel: () => {}
  }
  return logger
}

/** A cluster whose metadata knows `partitions` partitions per topic (or throws when metadata is not loaded). */
function fakeCluster (partitions: Record<string, number> | 'not loaded'): Cluster {
  return {
    findTopicPartitionMetadata (topic: string) {
      if (partitions === 'not loaded') throw new Error('Topic metadata not loaded')
      return Array.from({ length: partitions[topic] ?? 0 }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }))
    }
  } as unknown as Cluster
}

function leader (declared: Record<string, number[]>, cluster = fakeCluster({ a: 4, b: 2 })): { assigner: Assigner, warnings: Warning[] } {
  const warnings: Warning[] = []
  const assigner = declaredPartitionAssigner(declared)({ cluster, groupId: 'g', logger: fakeLogger(warnings) })
  return { assigner, warnings }
}

/** The metadata a member running this assigner sends. */
function member (memberId: string, declared: Record<string, number[]>, topics: string[]): GroupMember {
  const { assigner } = leader(declared)
  return { memberId, memberMetadata: assigner.protocol({ topics }).metadata }
}

/** A seed (syrup-kafka) member: same protocol name, no declaration in userData. */
function syrupMember (memberId: string, topics: string[], userData?: Buffer): GroupMember {
  return { memberId, memberMetadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: userData ?? Buffer.alloc(0) }) }
}

async function assign (assigner: Assigner, members: GroupMember[], topics: string[]): Promise<Record<string, Record<string, number[]>>> {
  const result = await assigner.assign({ members, topics })
  const out: Record<string, Record<string, number[]>> = {}
  for (const { memberId, memberAssignment } of result) {
    const decoded = AssignerProtocol.MemberAssignment.decode(memberAssignment)
    out[memberId] = decoded?.assignment ?? {}
  }
  return out
}

t.test('protocol() sends the declaration as JSON userData under the custom-assigner name', async t => {
  const { assigner } = leader({ a: [1, 0, 1], b: [1] })
  t.equal(assigner.name, CUSTOM_ASSIGNER_PROTOCOL)
  t.equal(CUSTOM_ASSIGNER_PROTOCOL, 'custom-assigner')
  const { name, metadata } = assigner.protocol({ topics: ['a', 'b'] })
  t.equal(name, 'custom-assigner')
  const decoded = AssignerProtocol.MemberMetadata.decode(metadata)
  t.equal(decoded?.version, 1)
  t.same(decoded?.topics, ['a', 'b'])
  t.equal(decoded?.userData.toString(), '{"partitions":{"a":[0,1],"b":[1]}}', 'sorted, without duplicates')
})

t.test('declaredPartitionAssigner rejects invalid declarations', async t => {
  t.throws(() => declaredPartitionAssigner({ a: [-1] }), TypeError)
  t.throws(() => declaredPartitionAssigner({ a: [1.5] }), TypeError)
  t.throws(() => declaredPartitionAssigner({ a: ['1' as unknown as number] }), TypeError)
  t.throws(() => declaredPartitionAssigner({ '': [0] }), TypeError)
})

t.test('assign() gives every member exactly what it declared', async t => {
  const { assigner, warnings } = leader({ a: [0, 1] })
  const members = [
    member('m1', { a: [0, 1] }, ['a', 'b']),
    member('m2', { a: [2], b: [0, 1] }, ['a', 'b']),
    member('m3', {}, ['a', 'b'])
  ]
  const result = await assign(assigner, members, ['a', 'b'])
  t.same(result, { m1: { a: [0, 1] }, m2: { a: [2], b: [0, 1] }, m3: {} }, 'partition a/3 is nobody\'s')
  t.same(warnings, [], 'nothing to warn about')
  t.same((await assigner.assign({ members, topics: ['a', 'b'] })).map(r => r.memberId), ['m1', 'm2', 'm3'], 'one assignment per member')
})

t.test('overlapping declarations: each member gets the partition, the leader warns', async t => {
  const { assigner, warnings } = leader({ a: [0] })
  const result = await assign(assigner, [member('m1', { a: [0] }, ['a']), member('m2', { a: [0, 3] }, ['a'])], ['a'])
  t.same(result, { m1: { a: [0] }, m2: { a: [0, 3] } })
  t.equal(warnings.length, 1)
  t.match(warnings[0], { message: /same partitions/, extra: { groupId: 'g', overlaps: [{ topic: 'a', partition: 0, memberIds: ['m1', 'm2'] }] } })
})

t.test('syrup-style members (no or unparseable userData) get an empty assignment and a warning', async t => {
  const { assigner, warnings } = leader({ a: [0] })
  const members = [
    member('ours', { a: [0, 1] }, ['a']),
    syrupMember('syrup', ['a']),
    syrupMember('garbage', ['a'], Buffer.from('not json')),
    syrupMember('wrong-shape', ['a'], Buffer.from('{"partitions":{"a":["x"]}}')),
    { memberId: 'undecodable', memberMetadata: Buffer.from([0]) }
  ]
  const result = await assign(assigner, members, ['a'])
  t.same(result, { ours: { a: [0, 1] }, syrup: {}, garbage: {}, 'wrong-shape': {}, undecodable: {} })
  t.same(warnings.map(w => (w.extra as { memberId?: string }).memberId), ['syrup', 'garbage', 'wrong-shape', 'undecodable'])
  t.ok(warnings.every(w => /declares no partitions/.test(w.message)))
})

t.test('topics outside the subscription and partitions the topic lacks are dropped with a warning', async t => {
  const { assigner, warnings } = leader({ a: [0] })
  const result = await assign(assigner, [
    member('m1', { a: [1, 7], other: [0] }, ['a']), // a has 4 partitions; "other" is not in the group's subscription
    member('m2', { b: [0] }, ['a']) // b is in the group's subscription but m2 does not subscribe to it
  ], ['a', 'b'])
  t.same(result, { m1: { a: [1] }, m2: {} })
  t.same(warnings.map(w => w.message.replace(/:.*/, '')), [
    'Group member declares partitions the topic does not have',
    'Group member declares partitions of a topic outside the subscription',
    'Group member declares partitions of a topic outside the subscription'
  ])
  t.match(warnings[0]?.extra, { memberId: 'm1', topic: 'a', missing: [7] })
  t.match(warnings[1]?.extra, { memberId: 'm1', topic: 'other' })
  t.match(warnings[2]?.extra, { memberId: 'm2', topic: 'b' })
})

t.test('without topic metadata the declaration is kept as is', async t => {
  const { assigner } = leader({ a: [0] }, fakeCluster('not loaded'))
  t.same(await assign(assigner, [member('m1', { a: [0, 9] }, ['a'])], ['a']), { m1: { a: [0, 9] } })
})

t.test('decodeDeclaration', async t => {
  t.same(decodeDeclaration(Buffer.from('{"partitions":{"topicA":[1,0,1]}}')), { topicA: [0, 1] })
  t.same(decodeDeclaration(Buffer.from('{"partitions":{}}')), {})
  t.equal(decodeDeclaration(null), undefined)
  t.equal(decodeDeclaration(undefined), undefined)
  t.equal(decodeDeclaration(Buffer.alloc(0)), undefined)
  t.equal(decodeDeclaration(Buffer.from('{')), undefined)
  t.equal(decodeDeclaration(Buffer.from('[1,2]')), undefined)
  t.equal(decodeDeclaration(Buffer.from('"x"')), undefined)
  t.equal(decodeDeclaration(Buffer.from('{"partitions":[0,1]}')), undefined)
  t.equal(decodeDeclaration(Buffer.from('{"partitions":{"a":[-1]}}')), undefined)
  t.equal(decodeDeclaration(Buffer.from('{"partitions":{"a":0}}')), undefined)
  t.equal(decodeDeclaration(Buffer.from('{"other":1}')), undefined)
})

t.test('overlappingDeclarations', async t => {
  t.same(overlappingDeclarations([]), [])
  t.same(overlappingDeclarations([
    { memberId: 'm1', partitions: { a: [0, 1] } },
    { memberId: 'm2', partitions: { a: [2] } }
  ]), [], 'disjoint')
  t.same(overlappingDeclarations([
    { memberId: 'm3', partitions: { b: [0], a: [1] } },
    { memberId: 'm1', partitions: { a: [1, 2], b: [0] } },
    { memberId: 'm2', partitions: { a: [2, 1] } },
    { memberId: 'm4', partitions: { a: [] } }
  ]), [
    { topic: 'a', partition: 1, memberIds: ['m1', 'm2', 'm3'] },
    { topic: 'a', partition: 2, memberIds: ['m1', 'm2'] },
    { topic: 'b', partition: 0, memberIds: ['m1', 'm3'] }
  ])
  t.same(overlappingDeclarations([{ memberId: 'm1', partitions: { a: [0, 0] } }]), [], 'a member does not overlap itself')
})
