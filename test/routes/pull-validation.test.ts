/**
 * Bad input to the pull-consumer routes: each a 4xx in the one error shape, naming the field and the rule
 * (native and Confluent paths alike); never a 500.
 */
import t, { type Test } from 'tap'
import { uniqueName } from '../helpers/build.js'
import { errorShapeProblem, type ErrorBody } from '../helpers/error-shape.js'
import { createTopic, e2eGateway, registryKey } from '../e2e/helpers/gateway.js'
import { injectCall, instanceUrl, type Answer } from '../pull/helpers.js'

t.test('bad requests name the field and the rule', async t => {
  const app = await e2eGateway(t, { registryKey: registryKey(t) })
  const call = injectCall(app)
  const topic = await createTopic(app, 2, 'pull-bad')
  const groupId = uniqueName('pull-bad')
  const created = await call('POST', `/consumer-groups/${groupId}/instances`, { name: 'one' })
  t.equal(created.statusCode, 201, created.body)
  const url = instanceUrl(groupId, 'one')
  const cf = `/consumers/${groupId}/instances/one`

  const cases: Array<[string, 'GET' | 'POST' | 'DELETE', string, unknown, number, string, string]> = [
    ['bad instance name', 'POST', `/consumer-groups/${groupId}/instances`, { name: 'a b' }, 400, 'body/name', 'pattern'],
    ['duplicate name', 'POST', `/consumer-groups/${groupId}/instances`, { name: 'one' }, 409, 'body/name', 'unique'],
    ['unknown offset reset', 'POST', `/consumers/${groupId}`, { 'auto.offset.reset': 'smallest' }, 400, 'body/auto.offset.reset', 'const'],
    ['two resets that differ', 'POST', `/consumer-groups/${groupId}/instances`, { autoOffsetReset: 'earliest', 'auto.offset.reset': 'latest' }, 400, 'body/auto.offset.reset', 'consistent'],
    ['auto-commit on', 'POST', `/consumers/${groupId}`, { 'auto.commit.enable': 'true' }, 400, 'body/auto.commit.enable', 'enum'],
    ['maxPollRecords 0', 'POST', `/consumer-groups/${groupId}/instances`, { maxPollRecords: 0 }, 400, 'body/maxPollRecords', 'minimum'],
    ['instance timeout too short', 'POST', `/consumer-groups/${groupId}/instances`, { instanceTimeoutMs: 10 }, 400, 'body/instanceTimeoutMs', 'minimum'],
    ['heartbeat not below session', 'POST', `/consumer-groups/${groupId}/instances`, { consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 6000 } }, 400, 'body/consumer/heartbeatIntervalMs', 'belowSessionTimeout'],
    ['unknown create property', 'POST', `/consumer-groups/${groupId}/instances`, { colour: 'red' }, 400, 'body/colour', 'additionalProperties'],
    ['bad group id', 'POST', '/consumer-groups/a%20b/instances', {}, 400, 'params/groupId', 'pattern'],
    ['unknown instance', 'GET', instanceUrl(groupId, 'nope') + '/records', undefined, 404, 'params/instanceId', 'exists'],
    ['poll before subscribing', 'GET', `${url}/records?timeoutMs=0`, undefined, 409, 'params/instanceId', 'subscribed'],
    ['subscription without topics', 'POST', `${url}/subscription`, {}, 400, 'body/topics', 'required'],
    ['subscription to a pattern', 'POST', `${cf}/subscription`, { topic_pattern: 'a.*' }, 400, 'body/topic_pattern', 'additionalProperties'],
    ['subscription to a missing topic', 'POST', `${url}/subscription`, { topics: [topic, uniqueName('missing')] }, 404, 'body/topics/1', 'topicExists'],
    ['assignment of a missing partition', 'POST', `${url}/assignments`, { partitions: [{ topic, partition: 0 }, { topic, partition: 9 }] }, 400, 'body/partitions/1/partition', 'partitionRange'],
    ['assignment with a negative partition', 'POST', `${cf}/assignments`, { partitions: [{ topic, partition: -1 }] }, 400, 'body/partitions/0/partition', 'minimum'],
    ['records timeout too long', 'GET', `${url}/records?timeoutMs=999999`, undefined, 400, 'querystring/timeoutMs', 'maximum'],
    ['records unknown query', 'GET', `${url}/records?limit=5`, undefined, 400, 'querystring/limit', 'additionalProperties'],
    ['commit offset not a number', 'POST', `${url}/offsets`, { offsets: [{ topic, partition: 0, offset: 'ten' }] }, 400, 'body/offsets/0/offset', 'pattern'],
    ['seek with offset and timestamp', 'POST', `${url}/positions`, { offsets: [{ topic, partition: 0, offset: 1, timestamp: 5 }] }, 400, 'body/offsets/0', 'oneOf'],
    ['seek with neither', 'POST', `${cf}/positions`, { offsets: [{ topic, partition: 0 }] }, 400, 'body/offsets/0', 'oneOf'],
    ['seek without offsets', 'POST', `${url}/positions`, undefined, 400, 'body/offsets', 'required']
  ]
  for (const [name, method, path, body, status, field, rule] of cases) {
    const res = await call(method, path, body)
    t.equal(res.statusCode, status, `${name}: ${res.body}`)
    if (path.startsWith('/consumers/')) {
      confluentError(t, name, res, status, `${field}: `, `(rule: ${rule})`)
      continue
    }
    t.equal(errorShapeProblem(status, res.body, res.headers['content-type'] as string), undefined, `${name}: the error shape`)
    const details = (res.json() as ErrorBody).details ?? []
    t.ok(details.some(d => d.field === field && d.rule === rule), `${name}: names ${field} (${rule}): ${JSON.stringify(details)}`)
  }

  // Confluent's paths answer Confluent's error shape with its consumer error codes, which its clients read
  const confluentCases: Array<[string, 'GET' | 'POST', string, unknown, number, number]> = [
    ['unknown instance', 'GET', `/consumers/${groupId}/instances/nope/records`, undefined, 404, 40403],
    ['duplicate name', 'POST', `/consumers/${groupId}`, { name: 'one' }, 409, 40902],
    ['poll before subscribing', 'GET', `${cf}/records?timeout=0`, undefined, 409, 40903],
    ['subscription to a missing topic', 'POST', `${cf}/subscription`, { topics: [uniqueName('missing')] }, 404, 40401],
    ['bad timeout', 'GET', `${cf}/records?timeout=-1`, undefined, 400, 400]
  ]
  for (const [name, method, path, body, status, code] of confluentCases) {
    const res = await call(method, path, body)
    t.equal(res.statusCode, status, `${name}: ${res.body}`)
    confluentError(t, name, res, status, '', '')
    t.equal((res.json() as { error_code: number }).error_code, code, `${name}: error_code ${code}`)
  }

  const subscribed = await call('POST', `${url}/subscription`, { topics: [topic] })
  t.equal(subscribed.statusCode, 204, subscribed.body)
  const other = uniqueName('pull-bad')
  const seek = await call('POST', `${url}/positions`, { offsets: [{ topic: other, partition: 0, offset: 0 }] })
  t.equal(seek.statusCode, 400, seek.body)
  t.match(seek.json(), { details: [{ field: 'body/offsets/0/topic', rule: 'subscribed' }] }, 'seeking a topic the instance does not read')

  const notJson = await app.inject({ method: 'POST', url: `${cf}/subscription`, headers: { 'content-type': 'application/vnd.kafka.v2+json' }, payload: '{"topics": [' })
  t.equal(notJson.statusCode, 400, 'a Confluent content type with broken JSON is a 400')
  confluentError(t, 'broken JSON', notJson, 400, 'body: ', '(rule: json)')
  const xml = await app.inject({ method: 'POST', url: `${cf}/subscription`, headers: { 'content-type': 'application/xml' }, payload: '<topics/>' })
  t.equal(xml.statusCode, 415, 'other content types are refused')
})

/** Confluent's error shape: exactly `{ error_code, message }` under its media type, the message naming the field and the rule. */
function confluentError (t: Test, name: string, res: Answer, status: number, field: string, rule: string): void {
  t.match(String(res.headers['content-type']), /^application\/vnd\.kafka\.v2\+json/, `${name}: Confluent's media type`)
  const body = res.json() as Record<string, unknown>
  t.same(Object.keys(body).sort(), ['error_code', 'message'], `${name}: Confluent's error shape`)
  t.ok(typeof body.error_code === 'number' && (body.error_code === status || Math.floor(body.error_code / 100) === status), `${name}: error_code ${String(body.error_code)} for ${status}`)
  t.ok(typeof body.message === 'string' && body.message.includes(field) && body.message.includes(rule), `${name}: "${String(body.message)}" names ${field}${rule}`)
}

t.test('a webhook group cannot take pull instances', async t => {
  const app = await e2eGateway(t, { registryKey: registryKey(t) })
  const call = injectCall(app)
  const topic = await createTopic(app, 1, 'pull-hook')
  const groupId = uniqueName('pull-hook')
  const defined = await call('POST', '/consumer-groups', { [groupId]: { isPartitionAssign: false, topics: [{ name: topic }], webhook: { url: 'http://127.0.0.1:9/hook' } } })
  t.equal(defined.statusCode, 201, defined.body)
  const res = await call('POST', `/consumer-groups/${groupId}/instances`, {})
  t.equal(res.statusCode, 409, res.body)
  t.match(res.json(), { code: 'GW_CONFLICT', details: [{ field: 'params/groupId', rule: 'notWebhookGroup' }] })
})
