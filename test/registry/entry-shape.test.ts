/** Pure: which registry fields and topic values are in the registry format, and what is said of the rest. */
import t from 'tap'
import { parseEntry, RAW_PREVIEW_BYTES, WHOLE_FIELD } from '../../src/registry/entry-shape.js'

const syrup = { groupId: 'g', memberId: 'm', leaderId: 'm', isLeader: true, groupProtocol: 'custom-assigner', partitions: [0, 2] }

t.test('syrup-kafka\'s format and the gateway\'s (with groups) are readable as they are', async t => {
  const gatewayValue = { ...syrup, groups: [syrup, { ...syrup, groupId: 'h', partitions: [1] }] }
  const parsed = parseEntry(JSON.stringify({ a: syrup, b: gatewayValue }))
  t.same(parsed.entry, { a: syrup, b: gatewayValue })
  t.same(parsed.unreadable, {})
})

t.test('a field that is not a JSON object is unreadable as a whole, with its text or value', async t => {
  t.match(parseEntry('{not json').unreadable[WHOLE_FIELD], { reason: /^not JSON: /, raw: '{not json' })
  t.same(parseEntry('[1,2]').unreadable[WHOLE_FIELD], { reason: 'expected a JSON object of topics, found [1,2]', raw: [1, 2] })
  t.same(parseEntry('null').unreadable[WHOLE_FIELD], { reason: 'expected a JSON object of topics, found null', raw: null })
  t.same(parseEntry('42').entry, {})
})

t.test('each topic value of another shape is flagged with the field and rule it breaks; the others stay readable', async t => {
  const parsed = parseEntry(JSON.stringify({
    ok: syrup,
    all: { groupProtocol: 'custom-assigner', partitions: 'all' },
    partitionsAll: { ...syrup, partitions: 'all' },
    negative: { ...syrup, partitions: [-1] },
    leader: { ...syrup, isLeader: 'yes' },
    member: { ...syrup, memberId: 7 },
    scalar: 'x',
    groups: { ...syrup, groups: [null] },
    groupsShape: { ...syrup, groups: {} },
    groupsInner: { ...syrup, groups: [{ ...syrup, partitions: [1.5] }] }
  }))
  t.same(Object.keys(parsed.entry), ['ok'])
  t.same(Object.fromEntries(Object.entries(parsed.unreadable).map(([k, v]) => [k, v.reason])), {
    all: 'groupId: expected a string, found undefined',
    partitionsAll: 'partitions: expected an array of partition numbers, found "all"',
    negative: 'partitions: expected an array of partition numbers, found [-1]',
    leader: 'isLeader: expected a boolean, found "yes"',
    member: 'memberId: expected a string, found 7',
    scalar: 'value: expected an object, found "x"',
    groups: 'groups/0: expected an object, found null',
    groupsShape: 'groups: expected an array, found {}',
    groupsInner: 'groups/0/partitions: expected an array of partition numbers, found [1.5]'
  })
  t.same(parsed.unreadable.partitionsAll?.raw, { ...syrup, partitions: 'all' }, 'the value as found')
})

t.test('huge unreadable values are shown as a bounded preview', async t => {
  const huge = 'x'.repeat(100_000)
  const whole = parseEntry(huge).unreadable[WHOLE_FIELD]
  t.type(whole?.raw, 'string')
  t.ok((whole?.raw as string).length < RAW_PREVIEW_BYTES + 50, 'not JSON: preview only')
  const topic = parseEntry(JSON.stringify({ t: { groupId: 'g', partitions: huge } })).unreadable.t
  t.match(topic?.raw, /… \(100\d+ characters\)$/)
})
