import { pino } from 'pino'
import { ConfigError, loadConfig, type Config } from './config/env.js'
import { loggerOptions } from './logger.js'
import { buildApp } from './app.js'
import { installShutdownSignals } from './shutdown-signals.js'

/** The server entry: validated configuration, the app, listen, and shutdown on signals. */
async function main (): Promise<void> {
  let config: Config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message)
      process.exit(78) // EX_CONFIG
    }
    throw err
  }
  const logger = pino(loggerOptions(config))
  const app = await buildApp({ config, logger })

  // The whole shutdown (drain included) is bounded by SHUTDOWN_TIMEOUT_MS; src/shutdown-signals.ts says
  // which repeated signals cut it short. The sequence is in src/lifecycle.ts.
  installShutdownSignals({
    timeoutMs: config.shutdownTimeoutMs,
    logger,
    shutdown: async ({ signal, err }) => {
      if (err !== undefined) logger.error({ err }, 'shutting down after an error')
      else logger.info({ signal, timeoutMs: config.shutdownTimeoutMs, drainMs: config.shutdownDrainMs }, 'shutting down')
      // after a crash there is nothing to drain for: close at once
      await app.lifecycle.shutdown(err === undefined ? config.shutdownDrainMs : 0)
    }
  })

  await app.ready()
  await app.lifecycle.start()
  // a signal during start: the shutdown above owns the process now; never open the listener
  if (app.lifecycle.shuttingDown) return
  try {
    await app.listen({ port: config.port, host: config.host })
  } catch (err) {
    if (!app.lifecycle.shuttingDown) throw err
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
