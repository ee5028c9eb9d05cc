/**
 * `npm run dev`: a local Kafka and Redis when none are configured (KAFKA_BROKERS / REDIS_URL), a webhook
 * receiver that prints what it gets, then the gateway from source with readable, coloured logs
 * (pino-pretty) and, once it is ready, three commands to paste: create a topic, produce, deliver.
 */
import PinoPretty from 'pino-pretty'
import { portFree } from './lib/launch/free-port.js'
import { spawnGateway } from './lib/launch/gateway.js'
import { stopChild } from './lib/launch/child.js'
import { startServices } from './lib/launch/services.js'
import { waitUntil } from './lib/launch/wait.js'
import { startDevReceiver } from './lib/dev/receiver.js'

const kafkaGiven = process.env.KAFKA_BROKERS !== undefined && process.env.KAFKA_BROKERS !== ''
const services = await startServices({
  kafka: { nodes: 1, port: !kafkaGiven && await portFree(9092) ? 9092 : 0 },
  report: e => {
    if (e.phase === 'starting' && e.service === 'kafka') console.log('starting a local Kafka 3.9.1 broker (first run downloads the jars with Maven)...')
    if (e.phase === 'ready') console.log(e.service === 'kafka' ? `KAFKA_BROKERS=${e.address}` : `REDIS_URL=${e.address}`)
  }
})
const port = process.env.PORT ?? '8080'
const base = `http://127.0.0.1:${port}`
const receiver = await startDevReceiver(await portFree(8081) ? 8081 : 0, line => { console.log(line) })
const env: Record<string, string> = {
  KAFKA_BROKERS: services.brokers,
  REDIS_URL: services.redisUrl,
  PORT: port,
  KAFKA_CLIENT_ID: process.env.KAFKA_CLIENT_ID ?? 'gateway-dev'
}

const pretty = PinoPretty({ translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', singleLine: true })
const gateway = spawnGateway({ env, onOutput: chunk => { pretty.write(chunk) } })

const state = { stopping: false }
async function stop (code: number): Promise<void> {
  if (state.stopping) return
  state.stopping = true
  await stopChild(gateway.child)
  await Promise.all([receiver.close(), services.stop()])
  process.exit(code)
}
process.on('SIGINT', () => { void stop(0) })
process.on('SIGTERM', () => { void stop(0) })
void gateway.exited.then(({ code }) => stop(code ?? 1))

try {
  await waitUntil('the gateway to be ready', async () => state.stopping || (await fetch(`${base}/health/ready`).catch(() => undefined))?.status === 200, 120_000, 250)
} catch (err) {
  console.error((err as Error).message)
  await stop(1)
}
const json = "-H 'content-type: application/json'"
if (!state.stopping) console.log(`
gateway ready: ${base}  (Swagger UI ${base}/docs; a webhook receiver printing deliveries at ${receiver.url})
try, in another terminal:
  curl -s ${base}/topics ${json} -d '{"name":"orders","partitions":3}'
  curl -s ${base}/messages ${json} -d '{"topic":"orders","key":"order-1","value":{"id":1,"total":9.5}}'
  curl -s ${base}/consumer-groups ${json} -d '{"orders-to-hook":{"isPartitionAssign":false,"fromBeginning":true,"topics":[{"name":"orders"}],"webhook":{"url":"${receiver.url}"}}}'
`)
