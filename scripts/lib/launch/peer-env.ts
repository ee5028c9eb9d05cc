/**
 * The benchmark's peers are installed outside the project and named by environment variables
 * (bench/README.md): reading those, and the versions of what they name. Every check gives either what
 * was found or one line saying why not, fit for a "not run: <why>" row.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { readIfExists } from './text.js'

export type Found<T> = { ok: true, value: T } | { ok: false, reason: string }

/** The path in env `name` when set and existing; `what` says what it should be, for the reason. */
export function envPath (name: string, what: string): Found<string> {
  const v = process.env[name]
  if (v === undefined || v === '') return { ok: false, reason: `${name} is not set (${what})` }
  if (!existsSync(v)) return { ok: false, reason: `${name}=${v} does not exist (${what})` }
  return { ok: true, value: v }
}

/** The first dotted version number a command prints (stdout or stderr), e.g. `java -version`, `node --version`. */
export function commandVersion (cmd: string, args: string[]): Found<string> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 })
  if (r.error !== undefined) return { ok: false, reason: `${cmd} ${args.join(' ')} failed: ${r.error.message}` }
  const m = /(\d+(?:\.\d+)+)/.exec(`${r.stdout}${r.stderr}`)
  return m?.[1] === undefined ? { ok: false, reason: `${cmd} ${args.join(' ')} printed no version` } : { ok: true, value: m[1] }
}

/** Whether dotted `version` is at least `min` (e.g. "22.23.3" ≥ "22.14"). */
export function atLeast (version: string, min: string): boolean {
  const a = version.split('.').map(Number)
  const b = min.split('.').map(Number)
  for (let i = 0; i < b.length; i++) {
    const x = a[i] ?? 0
    const y = b[i] ?? 0
    if (x !== y) return x > y
  }
  return true
}

/** The `version` of an installed package (`<dir>/package.json`), or why there is none. */
export function packageVersion (dir: string): Found<string> {
  const text = readIfExists(join(dir, 'package.json'))
  if (text === undefined) return { ok: false, reason: `no package.json in ${dir}` }
  const v = (JSON.parse(text) as { version?: unknown }).version
  return typeof v === 'string' ? { ok: true, value: v } : { ok: false, reason: `no version in ${dir}/package.json` }
}

/** A Node.js binary from env `name` (NODE22), checked to be at least `min`; its path and version. */
export function nodeFromEnv (name: string, min: string): Found<{ node: string, version: string }> {
  const node = envPath(name, `a Node.js ≥ ${min} binary`)
  if (!node.ok) return node
  const v = commandVersion(node.value, ['--version'])
  if (!v.ok) return v
  if (!atLeast(v.value, min)) return { ok: false, reason: `${name} is Node ${v.value}; needs ≥ ${min}` }
  return { ok: true, value: { node: node.value, version: v.value } }
}

/** Package `pkg` installed in the node_modules of the folder env `dirEnv` names (`what` it should be): that folder, the package's and its version. */
export function installedPackage (dirEnv: string, pkg: string, what: string): Found<{ dir: string, pkgDir: string, version: string }> {
  const dir = envPath(dirEnv, what)
  if (!dir.ok) return dir
  const pkgDir = join(dir.value, 'node_modules', ...pkg.split('/'))
  const version = packageVersion(pkgDir)
  if (!version.ok) return { ok: false, reason: `${pkg} is not installed in ${dirEnv}=${dir.value} (${version.reason})` }
  return { ok: true, value: { dir: dir.value, pkgDir, version: version.value } }
}
