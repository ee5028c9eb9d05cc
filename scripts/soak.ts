/**
 * `npm run soak`: the reliability scenarios of issue 8 (test/reliability/scenarios.ts) at a larger scale,
 * one after the other, with every message counted end to end (test/reliability/counting.ts). Prints the
 * Markdown table for the README's "Reliability" section and writes bench/results/reliability.json.
 *
 *   npm run soak
 *   SOAK_MESSAGES=2000 SOAK_SCENARIOS=webhook-down,gateway-kill npm run soak
 *
 * Env: SOAK_MESSAGES (20000 per scenario), SOAK_SCENARIOS (comma-separated names, default all:
 * webhook-down, webhook-flaky, gateway-kill, gateway-takeover, broker-restart, broker-loss, redis-restart),
 * SOAK_SECONDS (how long production lasts, about; default 60), RELIABILITY_SEED (fault PRNG seed, 8),
 * RELIABILITY_LOG_LEVEL (the gateways' LOG_LEVEL, default warn), RELIABILITY_LOG_DIR (write each gateway's
 * output there, <clientId>.log). The scenarios that do not restart
 * infrastructure run on a broker and a Redis this script starts; the others start their own.
 * Exits 1 when any invariant broke (lost, skipped, out of order, duplicates above the bound...).
 *
 *   npm run soak -- --chaos
 *   SOAK_SECONDS=1800 npm run soak -- --chaos
 *
 * --chaos: one long run with random faults on a seeded schedule instead (scripts/lib/soak-chaos.ts);
 * writes bench/results/chaos.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startKafka, type KafkaCluster } from './lib/launch/kafka.js'
import { startRedis, type LocalRedis } from './lib/launch/redis.js'
import { runChaosSoak } from './lib/soak-chaos.js'
import { machine, positive } from './lib/soak-env.js'
import { markdownTable, resultRow, summary, type Verdict } from '../test/reliability/report.js'
import { SCENARIOS, SCENARIO_NAMES, type ScenarioName } from '../test/reliability/scenarios.js'
import { soakSize } from '../test/reliability/sizes.js'

const RESULTS = fileURLToPath(new URL('../bench/results/reliability.json', import.meta.url))

function scenarioList (): ScenarioName[] {
  const raw = process.env.SOAK_SCENARIOS
  if (raw === undefined || raw.trim() === '') return SCENARIO_NAMES
  const names = raw.split(',').map(s => s.trim()).filter(s => s !== '')
  const unknown = names.filter(n => !(SCENARIO_NAMES as string[]).includes(n))
  if (unknown.length > 0) throw new Error(`unknown SOAK_SCENARIOS ${unknown.join(', ')}; known: ${SCENARIO_NAMES.join(', ')}`)
  return names as ScenarioName[]
}

const messages = positive('SOAK_MESSAGES', 20_000)
const seconds = positive('SOAK_SECONDS', 60)
const names = scenarioList()
const size = soakSize(messages, seconds)
const t0 = Date.now()
const stamp = (): string => `[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s]`

let kafka: KafkaCluster | undefined
let redis: LocalRedis | undefined
async function stopAll (): Promise<void> {
  await Promise.allSettled([kafka?.stop(), redis?.stop()])
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => { void stopAll().finally(() => process.exit(130)) })
}

interface Outcome { scenario: ScenarioName, verdict?: Verdict, error?: string }

async function main (): Promise<number> {
  console.error(`${stamp()} soak: ${names.length} scenario(s), ${messages} messages each, ~${size.ratePerSec} msg/s, ${size.partitions} partitions, ${size.keys} keys`)
  kafka = await startKafka({ nodes: 1, port: 0 })
  redis = await startRedis({ port: 0 })
  console.error(`${stamp()} broker ${kafka.bootstrap}, redis ${redis.url}`)
  const infra = { brokers: kafka.bootstrap, redisUrl: redis.url }

  const outcomes: Outcome[] = []
  for (const name of names) {
    const scenario = SCENARIOS[name]
    console.error(`${stamp()} ${name}: ${scenario.title(size)}`)
    try {
      const verdict = await scenario.run(infra, size, line => { console.error(`${stamp()}   ${line}`) })
      outcomes.push({ scenario: name, verdict })
      console.error(`${stamp()}   ${summary(verdict)}`)
      for (const e of verdict.examples) console.error(`${stamp()}   ${e}`)
      for (const p of verdict.problems) console.error(`${stamp()}   PROBLEM: ${p}`)
    } catch (err) {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err)
      outcomes.push({ scenario: name, error })
      console.error(`${stamp()}   FAILED: ${error}`)
    }
  }

  const verdicts = outcomes.flatMap(o => o.verdict === undefined ? [] : [o.verdict])
  const table = markdownTable(verdicts)
  console.log(table)
  const failed = outcomes.filter(o => o.error !== undefined || (o.verdict?.problems.length ?? 0) > 0)

  mkdirSync(fileURLToPath(new URL('../bench/results/', import.meta.url)), { recursive: true })
  writeFileSync(RESULTS, JSON.stringify({
    benchmark: 'reliability-soak',
    date: new Date().toISOString(),
    machine: machine(),
    setup: { ...size, scenarios: names, note: 'each scenario: gateway processes (node --import tsx src/server.ts), a round-robin group with concurrency = partitions, webhook on node:http; every 97th id (id % 97 == 13) is refused with 422 and must be dead-lettered' },
    rows: verdicts.map(resultRow),
    table,
    scenarios: outcomes.map(o => o.verdict === undefined
      ? { scenario: o.scenario, error: o.error }
      : { scenario: o.scenario, ...o.verdict }),
    durationS: Math.round((Date.now() - t0) / 1000)
  }, null, 2) + '\n')
  console.error(`${stamp()} wrote ${RESULTS}; ${failed.length === 0 ? 'every invariant held' : `${failed.length} scenario(s) failed: ${failed.map(f => f.scenario).join(', ')}`}`)
  return failed.length === 0 ? 0 : 1
}

const chaos = process.argv.slice(2).includes('--chaos')
const code = await (chaos ? runChaosSoak(stamp) : main()).catch((err: unknown) => {
  console.error(err)
  return 1
})
await stopAll()
process.exit(code)
