import closeWithGrace from 'close-with-grace'
import { pino } from 'pino'
import { ConfigError, loadConfig, type Config } from './config/env.js'
import { loggerOptions } from './logger.js'
import { buildApp } from './app.js'

/** The server entry: validated configuration, the app, listen, and shutdown on SIGTERM/SIGINT. */
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

  // A second signal, or the timeout, exits at once (close-with-grace does both).
  closeWithGrace({ delay: config.shutdownTimeoutMs, logger }, async ({ signal, err }) => {
    if (err !== undefined) logger.error({ err }, 'shutting down after an error')
    else logger.info({ signal }, 'shutting down')
    await app.close()
  })

  await app.ready()
  await app.lifecycle.start()
  await app.listen({ port: config.port, host: config.host })
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
