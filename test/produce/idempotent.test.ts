/** PRODUCE_IDEMPOTENT (default on): acks -1 records are written by Kafka's idempotent producer; acks 0/1 by a plain one. */
import t from 'tap'
import { build, uniqueName } from '../helpers/build.js'
import { createTopic, readRecords } from './helpers.js'

t.test('by default acks -1 goes through the idempotent producer (a producer id on the batch); acks 1 and 0 still work, through a plain producer', async t => {
  const app = await build(t)
  const topic = uniqueName('idem')
  await createTopic(app, topic, 1)
  const post = async (acks?: number): Promise<number> => (await app.inject({
    method: 'POST', url: '/messages', payload: { topic, value: `acks ${String(acks)}`, ...(acks !== undefined ? { options: { acks } } : {}) }
  })).statusCode
  t.equal(await post(), 200, 'default acks (-1)')
  t.equal(await post(1), 200, 'acks 1')
  t.equal(await post(0), 202, 'acks 0')
  const records = await readRecords(t, app, topic, 3)
  const byValue = new Map(records.map(r => [r.value?.toString(), r.producerId]))
  t.not(byValue.get('acks undefined'), '-1', `acks -1 written with producer id ${String(byValue.get('acks undefined'))}`)
  t.equal(byValue.get('acks 1'), '-1', 'acks 1: a plain producer (no producer id)')
  t.equal(byValue.get('acks 0'), '-1', 'acks 0: a plain producer')
})

t.test('PRODUCE_IDEMPOTENT=false: every record through the plain producer', async t => {
  const app = await build(t, { PRODUCE_IDEMPOTENT: 'false' })
  const topic = uniqueName('idem-off')
  await createTopic(app, topic, 1)
  const res = await app.inject({ method: 'POST', url: '/messages', payload: { topic, value: 'plain' } })
  t.equal(res.statusCode, 200, res.body)
  const [record] = await readRecords(t, app, topic, 1)
  t.equal(record?.producerId, '-1')
})
