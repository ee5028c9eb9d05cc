/**
 * What a webhook receives, through the gateway: Standard Webhooks signatures verified by an independent
 * implementation (npm `standardwebhooks`) with each of two rotated secrets alone, a webhook-id stable across
 * a retry, a User-Agent naming the gateway, and the group's custom headers. Secrets and header values never
 * show in a GET or in the logs.
 */
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { captureLogger, uniqueName, waitFor } from '../helpers/build.js'
import { generateSecret } from '../../src/webhooks/signing.js'
import { FAST_CONSUMER, createTopic, defineGroup, e2eGateway, postMessages } from './helpers/gateway.js'
import { one, startHook, type Hit } from './helpers/hook.js'

function verifies (secret: string, hit: Hit): boolean {
  try {
    new Webhook(secret).verify(hit.raw, {
      'webhook-id': one(hit.headers, 'webhook-id') ?? '',
      'webhook-timestamp': one(hit.headers, 'webhook-timestamp') ?? '',
      'webhook-signature': one(hit.headers, 'webhook-signature') ?? ''
    })
    return true
  } catch {
    return false
  }
}

t.test('signed with both rotated secrets, stable webhook-id across a retry, User-Agent and custom headers', async t => {
  const { logger, logs } = captureLogger('debug')
  const app = await e2eGateway(t, { logger })
  const topic = await createTopic(app, 2, 'signed')
  const groupId = uniqueName('signed')
  const oldSecret = generateSecret()
  const newSecret = generateSecret()
  const token = `Bearer tok-${uniqueName('x')}`

  // the first attempt of record "retry-me" fails; everything else is accepted
  let failedOnce = false
  const hook = await startHook(t, (hit) => {
    if (hit.body.value === 'retry-me' && !failedOnce) {
      failedOnce = true
      return { status: 503 }
    }
    return { status: 200 }
  })
  const values = ['a', 'b', 'retry-me', 'c', 'd']
  await postMessages(app, topic, values.map((value, i) => ({ value, partitions: [i % 2] })))
  await defineGroup(app, groupId, {
    isPartitionAssign: false,
    fromBeginning: true,
    topics: [{ name: topic }],
    webhook: { url: hook.url, secrets: [oldSecret, newSecret], headers: { Authorization: token, 'X-Tenant': 'acme' } },
    consumer: FAST_CONSUMER
  })
  await waitFor('every record delivered', () => new Set(hook.ok().map(h => h.body.value)).size === values.length, 30_000)

  t.equal(hook.hits.length, values.length + 1, 'one retry')
  for (const hit of hook.hits) {
    const what = `${String(hit.body.value)} (answered ${String(hit.status)})`
    const signature = one(hit.headers, 'webhook-signature') ?? ''
    t.match(signature, /^v1,[A-Za-z0-9+/=]+ v1,[A-Za-z0-9+/=]+$/, `${what}: two v1 signatures`)
    t.ok(verifies(oldSecret, hit), `${what}: verified with the old secret alone`)
    t.ok(verifies(newSecret, hit), `${what}: verified with the new secret alone`)
    t.notOk(verifies(generateSecret(), hit), `${what}: not with a foreign secret`)
    t.match(one(hit.headers, 'webhook-id'), /^msg_[A-Za-z0-9_-]{32}$/)
    t.ok(Math.abs(Number(one(hit.headers, 'webhook-timestamp')) - Date.now() / 1000) < 60, 'webhook-timestamp is now, in seconds')
    t.match(one(hit.headers, 'user-agent'), /^kafka-http-gateway\/\d+\.\d+\.\d+/, 'User-Agent names the gateway')
    t.equal(one(hit.headers, 'authorization'), token, 'the custom Authorization header arrives')
    t.equal(one(hit.headers, 'x-tenant'), 'acme', 'another custom header arrives')
    t.equal(one(hit.headers, 'content-type'), 'application/json')
  }

  const tries = hook.hits.filter(h => h.body.value === 'retry-me')
  t.equal(tries.length, 2)
  t.same(tries.map(h => h.status), [503, 200])
  t.equal(one(tries[0]?.headers ?? {}, 'webhook-id'), one(tries[1]?.headers ?? {}, 'webhook-id'), 'webhook-id stable across the retry')
  const ids = new Set(hook.ok().map(h => one(h.headers, 'webhook-id')))
  t.equal(ids.size, values.length, 'each record has its own webhook-id')

  const view = await app.inject({ method: 'GET', url: `/consumer-groups/${groupId}` })
  const list = await app.inject({ method: 'GET', url: '/consumer-groups' })
  for (const [what, text] of [['GET /consumer-groups/{id}', view.body], ['GET /consumer-groups', list.body], ['logs', logs.text()]] as const) {
    t.notOk(text.includes(oldSecret.slice(6)) || text.includes(newSecret.slice(6)), `${what}: no secret`)
    t.notOk(text.includes(token), `${what}: no custom header value`)
  }
})
