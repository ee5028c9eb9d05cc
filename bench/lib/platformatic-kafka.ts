/**
 * @platformatic/kafka as a direct-client reference beside kafkajs in the produce rows: the install in
 * KAFKA_HOOKS_DIR (its top-level @platformatic/kafka, needing Node ≥ 22.22) run by NODE22 in a process of
 * its own (../platformatic-kafka-producer.mjs), kept for the whole run so its producer stays warm.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { exitWithin } from '../../scripts/lib/launch/child.js'
import { killOnExit } from '../../scripts/lib/launch/cleanup.js'
import { installedPackage, nodeFromEnv } from '../../scripts/lib/launch/peer-env.js'
import type { Figures } from './produce-runs.js'

const MIN_NODE = '22.22'
const CHILD = fileURLToPath(new URL('../platformatic-kafka-producer.mjs', import.meta.url))

export type PlatformaticKafkaProbe =
  | { available: true, version: string, entry: string, node: string, nodeVersion: string }
  | { available: false, reason: string }

export function probePlatformaticKafka (): PlatformaticKafkaProbe {
  const pkg = installedPackage('KAFKA_HOOKS_DIR', '@platformatic/kafka', 'the install that holds @platformatic/kafka')
  if (!pkg.ok) return { available: false, reason: pkg.reason }
  const node = nodeFromEnv('NODE22', MIN_NODE)
  if (!node.ok) return { available: false, reason: node.reason }
  return { available: true, version: pkg.value.version, entry: join(pkg.value.pkgDir, 'dist', 'index.js'), node: node.value.node, nodeVersion: node.value.version }
}

export interface PlatformaticRun { brokers: string[], topic: string, seconds: number, inFlight: number, batch: number, valueBytes: number }

export interface PlatformaticKafkaClient {
  run: (cmd: PlatformaticRun) => Promise<Figures>
  close: () => Promise<void>
}

type Reply = { ok: true, figures: Figures & { firstError?: string } } | { ok: false, error: string }

/** The next message of `child` (rejects when it exits first). */
async function nextMessage<T> (child: ChildProcess): Promise<T> {
  return await new Promise<T>((resolve, reject) => {
    const onExit = (): void => { reject(new Error('the @platformatic/kafka child exited')) }
    child.once('exit', onExit)
    child.once('message', (msg: T) => {
      child.removeListener('exit', onExit)
      resolve(msg)
    })
  })
}

/** Forks the child with NODE22 and waits until it has loaded the package. */
export async function startPlatformaticKafka (p: Extract<PlatformaticKafkaProbe, { available: true }>): Promise<PlatformaticKafkaClient> {
  const child = fork(CHILD, [p.entry], { execPath: p.node, execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  killOnExit(child)
  await nextMessage<{ ready: true }>(child)
  return {
    run: async (cmd) => {
      const reply = nextMessage<Reply>(child)
      child.send({ type: 'run', ...cmd })
      const r = await reply
      if (!r.ok) throw new Error(`@platformatic/kafka producer: ${r.error}`)
      const { firstError, ...figures } = r.figures
      if (firstError !== undefined) console.error(`# @platformatic/kafka: ${figures.failures} failed sends; the first: ${firstError}`)
      return figures
    },
    close: async () => {
      if (child.connected) child.send({ type: 'exit' })
      await exitWithin(child, 10_000)
    }
  }
}
