import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { decodeSecret, generateSecret, secretProblem, sign, signatureHeaders, webhookId } from '../../src/webhooks/signing.js'

t.test('secretProblem accepts whsec_ + base64 of >= 24 bytes and explains refusals', async t => {
  t.equal(secretProblem(generateSecret()), undefined)
  t.equal(secretProblem(`whsec_${Buffer.alloc(24, 7).toString('base64')}`), undefined)
  t.match(secretProblem(Buffer.alloc(32).toString('base64')), /whsec_/)
  t.match(secretProblem('whsec_'), /base64/)
  t.match(secretProblem('whsec_not base64!!'), /base64/)
  t.match(secretProblem(`whsec_${Buffer.alloc(32).toString('base64url').replace(/=+$/, '')}_-`), /base64/)
  t.match(secretProblem(`whsec_${Buffer.alloc(23).toString('base64')}`), /at least 24 bytes \(got 23\)/)
  t.match(secretProblem(`whsec_${'A'.repeat(43)}`), /base64/, 'missing padding')
  t.throws(() => decodeSecret('nope'), /invalid webhook secret/)
  t.notMatch(String((() => { try { decodeSecret('whsec_SECRETVALUE') } catch (e) { return e } })()), /SECRETVALUE/, 'the secret is not in the error')
})

t.test('webhook-id is deterministic, distinct per group/topic/partition/offset', async t => {
  const id = webhookId('g', 'orders', 0, '10')
  t.match(id, /^msg_[A-Za-z0-9_-]{32}$/)
  t.equal(webhookId('g', 'orders', 0, '10'), id)
  const others = [webhookId('h', 'orders', 0, '10'), webhookId('g', 'orders2', 0, '10'), webhookId('g', 'orders', 1, '10'), webhookId('g', 'orders', 0, '11'), webhookId('g', 'orders', 0, '1'), webhookId('g', 'orders0', 0, '1')]
  t.equal(new Set([id, ...others]).size, others.length + 1)
})

t.test('signatures verify with the independent standardwebhooks implementation, each secret of a rotation alone', async t => {
  const s1 = generateSecret()
  const s2 = generateSecret(48)
  const body = JSON.stringify({ topic: 't', value: 'héllo ✓' })
  const id = webhookId('g', 't', 0, '1')
  const ts = Math.floor(Date.now() / 1000)
  const headers = signatureHeaders([decodeSecret(s1), decodeSecret(s2)], id, ts, body)
  t.equal(headers['webhook-id'], id)
  t.equal(headers['webhook-timestamp'], String(ts))
  t.equal(headers['webhook-signature']?.split(' ').length, 2)
  t.same(new Webhook(s1).verify(body, headers), JSON.parse(body))
  t.same(new Webhook(s2).verify(body, headers), JSON.parse(body))
  t.throws(() => new Webhook(generateSecret()).verify(body, headers), /signature/i, 'an unknown secret fails')
  t.throws(() => new Webhook(s1).verify(`${body} `, headers), /signature/i, 'a changed body fails')
  // same algorithm as the reference signer
  t.equal(sign(decodeSecret(s1), id, ts, body), new Webhook(s1).sign(id, new Date(ts * 1000), body))
})

t.test('no secrets: id and timestamp only', async t => {
  const h = signatureHeaders([], 'msg_x', 1, '{}')
  t.same(h, { 'webhook-id': 'msg_x', 'webhook-timestamp': '1' })
})
