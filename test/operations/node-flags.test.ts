/**
 * The gateway's node flags (scripts/lib/launch/node-flags.ts) are the same wherever it starts: `npm start`,
 * the Docker image's CMD and the launcher of the tests and benchmarks; and this node accepts them.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { GATEWAY_NODE_FLAGS } from '../../scripts/lib/launch/node-flags.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const read = (file: string): string => readFileSync(`${ROOT}${file}`, 'utf8')

t.test('npm start runs node with the flags', async t => {
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> }
  t.equal(pkg.scripts.start, ['exec node', ...GATEWAY_NODE_FLAGS, 'dist/src/server.js'].join(' '))
})

t.test('the Docker image runs node with the flags', async t => {
  const cmd = read('Dockerfile').split('\n').find(l => l.startsWith('CMD '))
  t.equal(cmd, `CMD ${JSON.stringify(['node', ...GATEWAY_NODE_FLAGS, 'dist/src/server.js']).replaceAll(',', ', ')}`)
})

t.test('the README names the flags where it shows how to run node', async t => {
  const readme = read('README.md')
  t.ok(readme.includes(['/usr/bin/node', ...GATEWAY_NODE_FLAGS, '/opt/kafka-http-gateway/dist/src/server.js'].join(' ')), 'the systemd ExecStart line')
})

t.test('this node accepts the flags', async t => {
  const { stdout } = await promisify(execFile)(process.execPath, [...GATEWAY_NODE_FLAGS, '-e', 'process.stdout.write("ok")'])
  t.equal(stdout, 'ok')
})
