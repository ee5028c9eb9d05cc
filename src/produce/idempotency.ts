/**
 * `Idempotency-Key` for POST /messages, kept in Redis at `keys.idempotency(key)`:
 * - the first request takes the key with `SET NX` (an in-progress marker holding a hash of its body);
 * - a success (200/202) replaces the marker with the answer, kept for IDEMPOTENCY_TTL_SECONDS;
 * - a failure releases the key, so a retry really retries (a 504 says the outcome is unknown: the
 *   records may have been written, and the retry may write them again);
 * - a retry with the same key and body gets the stored answer and produces nothing; with another body → 422;
 *   while the first is still running → 409 — unless the instance that took the key is gone (its
 *   heartbeat key no longer holds its token: killed, or restarted): then the retry takes the key over at
 *   once instead of waiting for the marker to expire.
 */
import { createHash, randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { AppError, fieldError, redisUnavailable } from '../errors.js'
import type { RegistryKeys } from '../registry/keys.js'
import { luaScript } from '../registry/scripts.js'
import type { ProduceResponse } from './types.js'
import { canonicalJson } from '../util/canonical-json.js'

export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/

export type IdempotencyBegin =
  | { kind: 'new', token: string }
  | { kind: 'replay', status: 200 | 202, body: ProduceResponse }

export interface IdempotencyStore {
  begin (key: string, bodyHash: string): Promise<IdempotencyBegin>
  complete (key: string, token: string, bodyHash: string, status: 200 | 202, body: ProduceResponse): Promise<void>
  release (key: string, token: string, bodyHash: string): Promise<void>
}

export interface IdempotencyDeps {
  redis: Redis
  keys: RegistryKeys
  ttlSeconds: number
  /** How long an in-progress marker lives if its instance dies mid-request (default 60 s, at most the TTL). */
  inProgressMs?: number
  /** This instance's heartbeat key and token (registry/liveness.ts), written into markers so others can tell it is gone. */
  owner?: MarkerOwner
  logger: Logger
}

export interface MarkerOwner { alive: string, token: string }

type Stored =
  | { state: 'in-progress', hash: string, token: string, owner?: MarkerOwner }
  | { state: 'done', hash: string, status: 200 | 202, body: ProduceResponse }


export function bodyHash (body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('base64url')
}

export function assertIdempotencyKey (key: string): void {
  if (!IDEMPOTENCY_KEY.test(key)) throw fieldError('headers/idempotency-key', 'pattern', 'must be 1-255 printable ASCII characters without spaces')
}

const COMPARE_AND_SET = luaScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1 end return 0`)
/** KEYS idempotency record, owner's heartbeat key; ARGV stored marker, owner token, new marker, ms → 1 taken over, 0 not. */
const TAKE_OVER = luaScript(`if redis.call('GET', KEYS[1]) == ARGV[1] and redis.call('GET', KEYS[2]) ~= ARGV[2] then redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4]) return 1 end return 0`)
const COMPARE_AND_DEL = luaScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)

export function createIdempotencyStore ({ redis, keys, ttlSeconds, inProgressMs = 60_000, owner, logger }: IdempotencyDeps): IdempotencyStore {
  const log = logger.child({ component: 'idempotency' })
  const markerMs = Math.max(1000, Math.min(inProgressMs, ttlSeconds * 1000))
  const marker = (hash: string, token: string): string =>
    JSON.stringify((owner !== undefined ? { state: 'in-progress', hash, token, owner } : { state: 'in-progress', hash, token }) satisfies Stored)

  async function redisCall<T> (fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      throw redisUnavailable('Redis is unavailable: Idempotency-Key cannot be honoured now (retry, or send without the header)', err)
    }
  }

  return {
    async begin (key, hash) {
      const redisKey = keys.idempotency(key)
      for (let attempt = 0; attempt < 3; attempt++) {
        const token = randomUUID()
        const taken = await redisCall(() => redis.set(redisKey, marker(hash, token), 'PX', markerMs, 'NX'))
        if (taken === 'OK') return { kind: 'new', token }
        const raw = await redisCall(() => redis.get(redisKey))
        if (raw === null) continue // expired between SET and GET: take it again
        let stored: Stored
        try {
          stored = JSON.parse(raw) as Stored
        } catch {
          log.warn({ redisKey }, 'unreadable idempotency record; replacing it')
          await redisCall(() => redis.del(redisKey))
          continue
        }
        if (stored.hash !== hash) {
          throw new AppError(422, 'GW_IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was already used with a different request body',
            { details: [{ field: 'headers/idempotency-key', rule: 'sameBody', message: 'a retry must send the same body as the first request' }] })
        }
        if (stored.state === 'in-progress') {
          if (stored.owner !== undefined) {
            const { alive, token: ownerToken } = stored.owner
            const taken = await redisCall(() => TAKE_OVER.run(redis, [redisKey, alive], [raw, ownerToken, marker(hash, token), markerMs]))
            if (taken === 1) {
              log.warn({ redisKey, owner: alive }, 'Idempotency-Key taken over from an instance that is gone; its records may have been written already')
              return { kind: 'new', token }
            }
          }
          throw new AppError(409, 'GW_IDEMPOTENCY_IN_PROGRESS', 'a request with this Idempotency-Key is still being processed; retry shortly',
            { retryAfterSeconds: 1, details: [{ field: 'headers/idempotency-key', rule: 'inProgress', message: 'the first request has not finished' }] })
        }
        return { kind: 'replay', status: stored.status, body: stored.body }
      }
      throw redisUnavailable('Idempotency-Key record keeps changing; retry')
    },
    async complete (key, token, hash, status, body) {
      const done = JSON.stringify({ state: 'done', hash, status, body } satisfies Stored)
      try {
        const ok = await COMPARE_AND_SET.run(redis, [keys.idempotency(key)], [marker(hash, token), done, ttlSeconds])
        if (ok !== 1) log.warn('idempotency marker expired before the answer was stored')
      } catch (err) {
        // the records are written: answer the client; a retry may then produce again
        log.warn({ err }, 'could not store the idempotent answer')
      }
    },
    async release (key, token, hash) {
      await COMPARE_AND_DEL.run(redis, [keys.idempotency(key)], [marker(hash, token)]).catch((err: unknown) => {
        log.warn({ err }, 'could not release the idempotency marker; it expires by itself')
      })
    }
  }
}
