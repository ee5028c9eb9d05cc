/**
 * How operators really stop the gateway: SIGTERM to the whole process group (systemd's default
 * KillMode=control-group, `kill -TERM -<pgid>`), so the node process gets the signal from the group
 * and, under `npm start`, npm's forwarded copy too. Either way: exit 0, the registry entry, heartbeat
 * and status gone, the group's committed offsets intact.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { uniqueName, waitFor } from '../helpers/build.js'
import { registryKeys } from '../../src/registry/keys.js'
import { GATEWAY_NODE_FLAGS } from '../../scripts/lib/launch/node-flags.js'
import { childEnv, createTopic, defineGroup, kafkaFor, postValues, redisFor, startGateway, startHook, waitForJoin } from './helpers/shutdown-kit.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const RECORDS = 20

/** True while any process of the group `pgid` exists. */
function groupAlive (pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

t.before(async () => {
  // `npm start` and `node dist/src/server.js` run the compiled server
  await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT })
})

async function stopsCleanly (t: Test, command: [string, ...string[]]): Promise<void> {
  const key = uniqueName('registry')
  const keys = registryKeys(key)
  const clientId = uniqueName('gw-pg')
  const redis = await redisFor(t, key)
  const { admin } = await kafkaFor(t)
  const topic = await createTopic(admin, 2)
  const hook = await startHook(t)
  const groupId = uniqueName('pg')
  const gw = await startGateway(t, childEnv(key, clientId), { command, detached: true })
  await defineGroup(gw, groupId, topic, { url: hook.url })
  await waitForJoin(redis, key, clientId, groupId)
  const res = await postValues(gw, topic, Array.from({ length: RECORDS }, (_, i) => `pg-${i}`))
  t.equal(res.status, 200, res.body)
  await waitFor(`${RECORDS} deliveries`, () => hook.values.length >= RECORDS, 30_000)
  const committed = async (): Promise<number> => (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions
    .reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0) ?? 0
  await waitFor('every delivered offset committed', async () => (await committed()) === RECORDS, 30_000, 100)

  const pgid = gw.child.pid
  if (pgid === undefined) throw new Error('no pid')
  process.kill(-pgid, 'SIGTERM')
  const { code, signal } = await gw.exited
  t.equal(code, 0, `${command.join(' ')} exited 0 (signal ${String(signal)})`)
  await waitFor('every process of the group to end', () => !groupAlive(pgid), 20_000)
  t.notMatch(gw.output(), /second SIGTERM, exiting/, 'the repeated SIGTERM did not cut the shutdown')
  t.same([await redis.hexists(key, clientId), await redis.exists(keys.alive(clientId)), await redis.exists(keys.status(clientId))], [0, 0, 0],
    'registry entry, heartbeat and status removed')
  t.equal(await committed(), RECORDS, 'committed offsets intact')
}

t.test('SIGTERM to the process group of `npm start`: clean exit 0, nothing left behind', async t => {
  await stopsCleanly(t, ['npm', 'start', '--silent'])
})

t.test('SIGTERM to the process group of `node dist/src/server.js`: clean exit 0, nothing left behind', async t => {
  await stopsCleanly(t, [process.execPath, ...GATEWAY_NODE_FLAGS, 'dist/src/server.js'])
})
