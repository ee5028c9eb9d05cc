/**
 * `npm run dev`: a local Kafka and Redis when none are configured (KAFKA_BROKERS / REDIS_URL),
 * then the gateway from source with Swagger UI at http://127.0.0.1:$PORT/docs.
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { startKafka, type KafkaCluster } from './local-kafka.js'
import { startRedis, type LocalRedis } from './local-redis.js'

async function portFree (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const s = createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

const env = { ...process.env }
let kafka: KafkaCluster | undefined
let redis: LocalRedis | undefined

if (env.KAFKA_BROKERS === undefined || env.KAFKA_BROKERS === '') {
  console.log('starting a local Kafka 3.9.1 broker (first run downloads the jars with Maven)...')
  kafka = await startKafka({ nodes: 1, port: (await portFree(9092)) ? 9092 : 0 })
  env.KAFKA_BROKERS = kafka.bootstrap
  console.log(`KAFKA_BROKERS=${kafka.bootstrap}`)
}
if (env.REDIS_URL === undefined || env.REDIS_URL === '') {
  redis = await startRedis({ port: 0 })
  env.REDIS_URL = redis.url
  console.log(`REDIS_URL=${redis.url}`)
}
env.PORT ??= '8080'
env.KAFKA_CLIENT_ID ??= 'gateway-dev'
console.log(`gateway: http://127.0.0.1:${env.PORT}/docs`)

const gateway = spawn(process.execPath, ['--import', 'tsx', new URL('../src/server.ts', import.meta.url).pathname], { env, stdio: 'inherit' })

let stopping = false
async function stop (code: number): Promise<void> {
  if (stopping) return
  stopping = true
  if (gateway.exitCode === null) {
    gateway.kill('SIGTERM')
    await new Promise(resolve => gateway.once('exit', resolve))
  }
  await Promise.allSettled([kafka?.stop(), redis?.stop()])
  process.exit(code)
}
process.on('SIGINT', () => { void stop(0) })
process.on('SIGTERM', () => { void stop(0) })
gateway.on('exit', (code) => { void stop(code ?? 1) })
