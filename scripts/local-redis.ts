/**
 * A private redis-server on 127.0.0.1 from the command line (scripts/lib/launch/redis.ts):
 *   npx tsx scripts/local-redis.ts start [--port N]
 * prints `REDIS_URL=redis://127.0.0.1:N/0` once it answers PING, and stops on SIGINT/SIGTERM.
 */
import { flag, runIfEntry, runUntilSignal } from './lib/cli.js'
import { startRedis } from './lib/launch/redis.js'

async function main (argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv
  if (cmd !== 'start') {
    console.error('usage: local-redis.ts start [--port N]')
    process.exitCode = 2
    return
  }
  const port = Number(flag(rest, '--port') ?? 0)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be an integer 0-65535')
  const redis = await startRedis({ port })
  console.log(`REDIS_URL=${redis.url}`)
  runUntilSignal('redis', () => redis.stop())
}

runIfEntry(import.meta.url, main)
