/**
 * A real Apache Kafka (3.9.1, KRaft) on 127.0.0.1 from the command line (scripts/lib/launch/kafka.ts):
 *   npx tsx scripts/local-kafka.ts start [--nodes 1|3] [--port N] [--data DIR]
 *   npx tsx scripts/local-kafka.ts fetch
 * `start` prints `KAFKA_BROKERS=<bootstrap>` once ready and stops cleanly on SIGINT/SIGTERM;
 * `fetch` collects the jars with Maven (into a cache outside git) and prints their folder.
 */
import { flag, runIfEntry, runUntilSignal } from './lib/cli.js'
import { startKafka } from './lib/launch/kafka.js'
import { ensureKafkaJars } from './lib/launch/kafka-jars.js'

async function main (argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv
  if (cmd === 'fetch') {
    console.log(await ensureKafkaJars())
    return
  }
  if (cmd !== 'start') {
    console.error('usage: local-kafka.ts start [--nodes 1|3] [--port N] [--data DIR]\n       local-kafka.ts fetch')
    process.exitCode = 2
    return
  }
  const nodesArg = flag(rest, '--nodes') ?? '1'
  if (nodesArg !== '1' && nodesArg !== '3') throw new Error('--nodes must be 1 or 3')
  const portArg = flag(rest, '--port')
  const dataArg = flag(rest, '--data')
  const started = Date.now()
  const cluster = await startKafka({
    nodes: nodesArg === '3' ? 3 : 1,
    port: portArg === undefined ? 0 : Number(portArg),
    ...(dataArg === undefined ? {} : { dataDir: dataArg })
  })
  console.error(`kafka ready in ${Date.now() - started} ms; data in ${cluster.dataDir}`)
  console.log(`KAFKA_BROKERS=${cluster.bootstrap}`)
  runUntilSignal('kafka', () => cluster.stop())
}

runIfEntry(import.meta.url, main)
