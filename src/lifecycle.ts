import fp from 'fastify-plugin'

export interface Lifecycle {
  /** True once shutdown began: readiness answers 503 so load balancers drain this instance first. */
  shuttingDown: boolean
  /** Plugins register what must run once dependencies may be contacted (connects, consumers, heartbeats). */
  onStart (name: string, task: () => Promise<void>): void
  /** Runs the start tasks in registration order; called by the server entry (and tests) after `ready()`. */
  start (): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: Lifecycle
  }
}

export default fp(async (app) => {
  const tasks: Array<{ name: string, task: () => Promise<void> }> = []
  let started = false
  const lifecycle: Lifecycle = {
    shuttingDown: false,
    onStart (name, task) { tasks.push({ name, task }) },
    async start () {
      if (started) return
      started = true
      for (const { name, task } of tasks) {
        app.log.debug({ task: name }, 'starting')
        await task()
      }
    }
  }
  app.decorate('lifecycle', lifecycle)
  app.addHook('preClose', async () => { lifecycle.shuttingDown = true })
}, { name: 'lifecycle', fastify: '5.x' })
