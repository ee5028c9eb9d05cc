/** The consumer service's dependencies with its logger: ONE object that every step of the service is handed. */
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { AppError, redisUnavailable } from '../errors.js'
import type { TopicMetadataCache } from '../kafka/topics.js'
import type { RegistryKeys } from '../registry/keys.js'
import type { Registry } from '../registry/registry.js'
import type { DefinitionStore } from './store.js'
import type { Supervisor } from './supervisor/supervisor.js'

export interface ConsumerServiceDeps {
  clientId: string
  redis: Redis
  keys: RegistryKeys
  store: DefinitionStore
  registry: Registry
  supervisor: Supervisor
  topics: TopicMetadataCache
  allowedHosts: readonly string[]
  blockedAddresses?: readonly string[]
  logger: Logger
}

export interface ConsumerServiceContext extends ConsumerServiceDeps {
  /** The `component: 'consumer-groups'` child logger. */
  readonly log: Logger
}

export function createServiceContext (deps: ConsumerServiceDeps): ConsumerServiceContext {
  return { ...deps, log: deps.logger.child({ component: 'consumer-groups' }) }
}

/** Runs a Redis step: AppErrors pass, any other failure becomes 503 GW_REDIS_UNAVAILABLE saying what could not be done. */
export async function viaRedis<T> (what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof AppError) throw err
    throw redisUnavailable(`Redis is unavailable: cannot ${what}`, err)
  }
}
