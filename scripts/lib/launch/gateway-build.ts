/** The gateway's build (`npm run build`: tsc -p tsconfig.build.json into dist/), for runs of `node dist/src/server.js`. */
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { runCommand } from './child.js'
import { ROOT } from './gateway.js'

const BUILT_SERVER = join(ROOT, 'dist/src/server.js')
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc')

/**
 * Resolves with the server entry and tsc's complaints, if any: tsc emits JavaScript despite type errors,
 * so a tree with type errors (a colleague's edit in progress) still runs, and the caller can say the build
 * was not clean. Throws when nothing was emitted, or on type errors when BENCH_STRICT_BUILD=1.
 */
export async function buildGateway (): Promise<{ entry: string, typeErrors: string | undefined }> {
  const started = Date.now()
  const { code, out } = await runCommand(process.execPath, [TSC, '-p', 'tsconfig.build.json'], { cwd: ROOT })
  const emitted = existsSync(BUILT_SERVER) && statSync(BUILT_SERVER).mtimeMs >= started - 1000
  if (code === 0 && emitted) return { entry: BUILT_SERVER, typeErrors: undefined }
  if (!emitted || process.env.BENCH_STRICT_BUILD === '1') throw new Error(`tsc -p tsconfig.build.json failed (exit ${String(code)}):\n${out}`)
  return { entry: BUILT_SERVER, typeErrors: out.trim() }
}
