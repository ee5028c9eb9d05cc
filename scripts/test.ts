/**
 * `npm test`: starts a private Kafka broker and Redis unless KAFKA_BROKERS / REDIS_URL name running ones,
 * runs the tap suite against them, stops what it started, and ends with "N passed, N failed".
 */
import { spawn } from 'node:child_process'
import { startServices, type Services } from './lib/launch/services.js'

const tapArgs = process.argv.slice(2)
let services: Services | undefined

async function stopAll (): Promise<void> {
  await services?.stop()
}

async function main (): Promise<number> {
  services = await startServices({
    report: e => {
      if (e.phase === 'ready') console.log(e.service === 'kafka' ? `# kafka ${e.address} ready in ${e.ms} ms` : `# redis ${e.address} ready`)
    }
  })
  const env = { ...process.env, KAFKA_BROKERS: services.brokers, REDIS_URL: services.redisUrl }

  const child = spawn(process.execPath, [new URL('../node_modules/tap/dist/esm/run.mjs', import.meta.url).pathname, ...tapArgs], {
    env, stdio: ['ignore', 'pipe', 'inherit']
  })
  let summary = ''
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk)
    summary = (summary + chunk.toString('utf8')).slice(-4096)
  })
  const code: number = await new Promise(resolve => child.on('close', (c) => resolve(c ?? 1)))

  // tap's last summary line: "# { total: N, pass: N, fail: N, skip: N, todo: N }" (zero counts left out)
  const m = /# \{ total: \d+[^}]*\}/.exec(summary)
  const count = (name: string): number => Number(new RegExp(`\\b${name}: (\\d+)`).exec(m?.[0] ?? '')?.[1] ?? 0)
  const passed = count('pass')
  const failed = count('fail')
  const skipped = count('skip') + count('todo')
  const ok = code === 0 && m !== null && passed > 0 && failed === 0
  console.log(`${passed} passed, ${ok ? failed : Math.max(failed, 1)} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`)
  return ok ? 0 : 1
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => { void stopAll().finally(() => process.exit(130)) })
}

const exitCode = await main().catch((err: unknown) => {
  console.error(err)
  console.log('0 passed, 1 failed')
  return 1
})
await stopAll()
process.exit(exitCode)
