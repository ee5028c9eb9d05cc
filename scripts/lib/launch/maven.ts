/**
 * Java libraries from a Maven repository into a cache folder outside git: one `mvn copy-dependencies`
 * of a generated pom, skipped while a marker file says it was done for the same pom.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCommand } from './child.js'
import { readIfExists, tail } from './text.js'

export type Artifact = readonly [groupId: string, artifactId: string, version: string]

export interface MavenFetch {
  /** Cache folder: pom.xml, the marker and libs/ go there. */
  dir: string
  /** artifactId of the generated pom (names what the folder is for). */
  name: string
  artifacts: readonly Artifact[]
  /** mvn -q: Maven's output only on failure. */
  quiet?: boolean
  /** Called before a (re)fetch replaces libs/: what is tied to the exact jars goes. */
  onRefetch?: () => void
}

/** Thrown when mvn fails; `output` is Maven's whole output. */
export class MavenError extends Error {
  readonly code: number | null
  readonly output: string
  constructor (message: string, code: number | null, output: string) {
    super(message)
    this.name = 'MavenError'
    this.code = code
    this.output = output
  }
}

function pomXml (name: string, artifacts: readonly Artifact[]): string {
  const deps = artifacts.map(([g, a, v]) =>
    `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`
  ).join('\n')
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId>
  <artifactId>${name}</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
${deps}
  </dependencies>
</project>
`
}

/** Makes sure the artifacts and their runtime dependencies are in `<dir>/libs`; returns that folder. */
export async function fetchMavenLibs (opts: MavenFetch): Promise<string> {
  const { dir } = opts
  const libs = join(dir, 'libs')
  const marker = join(dir, '.complete')
  const pom = pomXml(opts.name, opts.artifacts)
  mkdirSync(dir, { recursive: true })
  if (readIfExists(marker) === pom && existsSync(libs)) return libs

  writeFileSync(join(dir, 'pom.xml'), pom)
  rmSync(libs, { recursive: true, force: true })
  opts.onRefetch?.()
  const args = [...(opts.quiet === true ? ['-q'] : []), '-B', '-f', join(dir, 'pom.xml'),
    'org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies',
    '-DincludeScope=runtime', `-DoutputDirectory=${libs}`]
  const { code, out } = await runCommand('mvn', args, { cwd: dir })
  if (code !== 0) throw new MavenError(`mvn copy-dependencies failed (exit ${String(code)}) in ${dir}:\n${tail(out, 40)}`, code, out)
  writeFileSync(marker, pom)
  return libs
}
