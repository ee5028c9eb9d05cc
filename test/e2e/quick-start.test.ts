/**
 * The README's quick start, verbatim, on a fresh clone: its first line (install and run the gateway with
 * a local broker and Redis) until /health/ready answers 200; then the whole process group is stopped.
 */
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { freePort } from '../../scripts/lib/launch/free-port.js'
import { waitFor } from '../helpers/build.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** The first command of the README's quick start block, without its comment. */
export function quickStartLines (readme: string): string[] {
  const section = readme.split('\n## Quick start')[1] ?? ''
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? ''
  return block.split('\n').map(l => l.replace(/\s+#.*$/, '').trim()).filter(l => l !== '')
}

t.setTimeout(420_000)

t.test('the README\'s quick start: two lines, the first installs and runs, the second is what CI runs', async t => {
  const lines = quickStartLines(readFileSync(join(ROOT, 'README.md'), 'utf8'))
  t.equal(lines.length, 2, `two lines: ${JSON.stringify(lines)}`)
  t.match(lines[0], /^npm ci && npm run dev$/, 'the first installs, then runs')
  t.equal(lines[1], 'npm test', 'the second runs the tests')
  const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8')
  t.ok(ci.split('\n').some(l => l.trim() === lines[1]), '.ci/run runs exactly the README\'s test line')
})

t.test('a fresh clone: the first line brings the gateway to ready', async t => {
  const [first] = quickStartLines(readFileSync(join(ROOT, 'README.md'), 'utf8'))
  if (first === undefined) throw new Error('no quick start line')
  const dir = mkdtempSync(join(tmpdir(), 'gw-quick-start-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  await promisify(execFile)('git', ['clone', '--quiet', ROOT, dir])
  const port = await freePort()
  const env: Record<string, string | undefined> = { ...process.env, PORT: String(port), npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' }
  // a newcomer's shell has none of the test run's services: the line must bring its own
  delete env.KAFKA_BROKERS
  delete env.REDIS_URL
  const child = spawn('sh', ['-c', first], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (c: Buffer) => { out += c.toString('utf8') })
  child.stderr.on('data', (c: Buffer) => { out += c.toString('utf8') })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
  let done = false
  void exited.then(() => { done = true })
  t.teardown(async () => {
    if (!done && child.pid !== undefined) {
      process.kill(-child.pid, 'SIGINT')
      await Promise.race([exited, new Promise(resolve => setTimeout(resolve, 20_000))])
      try { process.kill(-child.pid, 'SIGKILL') } catch { /* gone */ }
    }
  })
  const started = Date.now()
  await waitFor('GET /health/ready → 200', async () => {
    if (done) throw new Error(`the quick start exited:\n${out.slice(-4000)}`)
    const res = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined)
    return res?.status === 200
  }, 360_000, 500).catch((err: unknown) => { throw new Error(`${(err as Error).message}\n${out.slice(-4000)}`) })
  t.comment(`ready ${Math.round((Date.now() - started) / 1000)} s after \`${first}\` on a fresh clone`)
  t.pass('ready')
})
