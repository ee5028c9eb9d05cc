/**
 * `npm run dev`: a local Kafka and Redis when none are configured (KAFKA_BROKERS / REDIS_URL),
 * then the gateway from source with Swagger UI at http://127.0.0.1:$PORT/docs.
 */
import { portFree } from './lib/launch/free-port.js'
import { spawnGateway } from './lib/launch/gateway.js'
import { stopChild } from './lib/launch/child.js'
import { startServices } from './lib/launch/services.js'

const kafkaGiven = process.env.KAFKA_BROKERS !== undefined && process.env.KAFKA_BROKERS !== ''
const services = await startServices({
  kafka: { nodes: 1, port: !kafkaGiven && await portFree(9092) ? 9092 : 0 },
  report: e => {
    if (e.phase === 'starting' && e.service === 'kafka') console.log('starting a local Kafka 3.9.1 broker (first run downloads the jars with Maven)...')
    if (e.phase === 'ready') console.log(e.service === 'kafka' ? `KAFKA_BROKERS=${e.address}` : `REDIS_URL=${e.address}`)
  }
})
const env: Record<string, string> = {
  KAFKA_BROKERS: services.brokers,
  REDIS_URL: services.redisUrl,
  PORT: process.env.PORT ?? '8080',
  KAFKA_CLIENT_ID: process.env.KAFKA_CLIENT_ID ?? 'gateway-dev'
}
console.log(`gateway: http://127.0.0.1:${env.PORT}/docs`)

const gateway = spawnGateway({ env })

const state = { stopping: false }
async function stop (code: number): Promise<void> {
  if (state.stopping) return
  state.stopping = true
  await stopChild(gateway.child)
  await services.stop()
  process.exit(code)
}
process.on('SIGINT', () => { void stop(0) })
process.on('SIGTERM', () => { void stop(0) })
void gateway.exited.then(({ code }) => stop(code ?? 1))
