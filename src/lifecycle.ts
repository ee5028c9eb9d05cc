import fp from 'fastify-plugin'
import { setTimeout as delay } from 'node:timers/promises'

export interface Lifecycle {
  /** True once shutdown began: readiness answers 503 so load balancers drain this instance first. */
  shuttingDown: boolean
  /** Plugins register what must run once dependencies may be contacted (connects, consumers, heartbeats). */
  onStart (name: string, task: () => Promise<void>): void
  /** Runs the start tasks in registration order; called by the server entry (and tests) after `ready()`. */
  start (): Promise<void>
  /**
   * Marks the instance as shutting down (idempotent): readiness answers 503 `shutting-down` and every
   * response carries `Connection: close`, so keep-alive clients reconnect (to another instance) and an
   * in-flight request never keeps a socket open past the listener's close.
   */
  beginShutdown (): void
  /**
   * The graceful shutdown the server entry runs on SIGTERM/SIGINT: `beginShutdown()`, then — while the
   * listener still serves — `drainMs` for load balancers to see readiness fail, then `app.close()`
   * (see the order in the plugin below). Concurrent calls share one shutdown.
   */
  shutdown (drainMs?: number): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: Lifecycle
  }
}

/**
 * Start tasks and the shutdown sequence. `app.close()` then runs, in order (Fastify 5):
 * 1. routes closed: requests arriving now get Fastify's 503 with `Connection: close`;
 * 2. preClose hooks: this plugin's (`shuttingDown`), then produce's (gathering batches sent at once);
 * 3. the listener closes and idle connections are dropped; Fastify waits for every request in flight
 *    to be answered (their sockets close after the response, see `beginShutdown`);
 * 4. onClose hooks in reverse registration order: consumers (stop every consumer — deliveries in flight
 *    get SHUTDOWN_DELIVERY_GRACE_MS to finish and be committed, then are aborted and stay uncommitted —
 *    leave the groups, delete this instance's registry field,
 *    status and heartbeat, close the deliverer), produce (wait for produce calls and batches in
 *    flight), Redis, Kafka (producer, admin), metrics.
 */
export default fp(async (app) => {
  const tasks: Array<{ name: string, task: () => Promise<void> }> = []
  let started = false
  let shutdown: Promise<void> | undefined
  const lifecycle: Lifecycle = {
    shuttingDown: false,
    onStart (name, task) { tasks.push({ name, task }) },
    async start () {
      if (started) return
      started = true
      for (const { name, task } of tasks) {
        if (lifecycle.shuttingDown) return
        app.log.debug({ task: name }, 'starting')
        await task()
      }
    },
    beginShutdown () {
      if (lifecycle.shuttingDown) return
      lifecycle.shuttingDown = true
      app.log.info('shutdown begun: readiness answers 503 shutting-down')
    },
    shutdown (drainMs = 0) {
      shutdown ??= (async () => {
        lifecycle.beginShutdown()
        if (drainMs > 0 && app.server.listening) {
          app.log.info({ drainMs }, 'draining: still serving while load balancers notice readiness failing')
          await delay(drainMs)
        }
        const began = performance.now()
        await app.close()
        app.log.info({ durationMs: Math.round(performance.now() - began) }, 'closed: requests answered, consumers stopped, registry entries removed, Kafka and Redis disconnected')
      })()
      return shutdown
    }
  }
  app.decorate('lifecycle', lifecycle)
  app.addHook('preClose', async () => { lifecycle.beginShutdown() })
  // Node keeps a keep-alive socket open after its last response until keepAliveTimeout (72 s in Fastify),
  // and server.close() waits for it: a request in flight at shutdown would hold the close for that long.
  app.addHook('onSend', async (request, reply) => {
    if (lifecycle.shuttingDown && request.raw.httpVersionMajor < 2) reply.header('connection', 'close')
  })
}, { name: 'lifecycle', fastify: '5.x' })
