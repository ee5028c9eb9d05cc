/**
 * Writes openapi/openapi.json from the route schemas. `--check` exits 1 when the committed file is stale.
 * Building the app contacts neither Kafka nor Redis (connections start only in lifecycle.start()).
 */
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config/env.js'

export const OPENAPI_PATH = fileURLToPath(new URL('../openapi/openapi.json', import.meta.url))

export async function generateOpenapi (): Promise<string> {
  const config = loadConfig({ KAFKA_CLIENT_ID: 'openapi-generator' })
  const app = await buildApp({ config, logger: pino({ level: 'silent' }) })
  await app.ready()
  const doc = app.swagger()
  await app.close()
  return `${JSON.stringify(doc, null, 2)}\n`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const doc = await generateOpenapi()
  if (process.argv.includes('--check')) {
    const committed = await readFile(OPENAPI_PATH, 'utf8').catch(() => '')
    if (committed !== doc) {
      console.error('openapi/openapi.json is stale: run `npm run openapi`')
      process.exit(1)
    }
    console.log('openapi/openapi.json is up to date')
  } else {
    await writeFile(OPENAPI_PATH, doc)
    console.log(`wrote ${OPENAPI_PATH}`)
  }
}
