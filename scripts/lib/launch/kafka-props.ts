/** A KRaft node's server.properties (combined broker and controller on 127.0.0.1) and its cluster id. */
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { readIfExists } from './text.js'

/** Where one node listens and keeps its data. */
export interface NodeLayout {
  readonly index: number
  readonly port: number
  readonly controllerPort: number
  readonly dir: string
}

export function serverProps (n: NodeLayout, nodes: number, voters: string, extra: Record<string, string>): Record<string, string> {
  const rf = String(nodes === 3 ? 3 : 1)
  const base: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': String(n.index),
    'controller.quorum.voters': voters,
    listeners: `PLAINTEXT://127.0.0.1:${n.port},CONTROLLER://127.0.0.1:${n.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${n.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': join(n.dir, 'data'),
    'num.partitions': '1',
    'auto.create.topics.enable': 'false',
    'offsets.topic.replication.factor': rf,
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': nodes === 3 ? '2' : '1',
    'group.initial.rebalance.delay.ms': '0',
    // Small-machine settings: few threads, and a cleaner buffer that fits a small heap
    // (the 128 MiB default would take a third of 384 MiB).
    'num.network.threads': '2',
    'num.io.threads': '4',
    'num.recovery.threads.per.data.dir': '1',
    'log.cleaner.threads': '1',
    'log.cleaner.dedupe.buffer.size': String(8 * 1024 * 1024)
  }
  if (nodes === 3) {
    Object.assign(base, {
      'default.replication.factor': '3',
      'min.insync.replicas': '2',
      'broker.session.timeout.ms': '3000',
      'broker.heartbeat.interval.ms': '500',
      'controller.quorum.election.timeout.ms': '1000',
      'controller.quorum.fetch.timeout.ms': '2000'
    })
  }
  return { ...base, ...extra }
}

export function writeProps (file: string, props: Record<string, string>): void {
  writeFileSync(file, Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n')
}

/** The cluster id a formatted log dir holds (a kept data dir keeps its id: format is skipped for it). */
export function formattedClusterId (logDir: string): string | undefined {
  const meta = readIfExists(join(logDir, 'meta.properties'))
  return meta === undefined ? undefined : /^cluster\.id=(\S+)$/m.exec(meta)?.[1]
}

/** A Kafka-style Uuid: 16 random bytes, base64url without padding, not starting with '-'. */
export function kafkaUuid (): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}
