/**
 * API_KEYS: the accepted Bearer keys and what each may do.
 *
 * Entries are separated by `;`, spaces or newlines. An entry without a colon is a comma list of plain
 * keys (today's form: every scope, every topic). An entry with colons is one scoped key:
 *
 *     <key>:<scope>[,<scope>...][:<topic-glob>[,<topic-glob>...]]
 *
 * scopes: `produce`, `consume`, `admin`, or `*` for all three; topic globs: topic-name characters and
 * `*` (any run of characters), matched against the whole name (`orders.*`, `*-events`, `audit`);
 * without globs every topic. So a key may contain none of `:` `;` `,` or whitespace.
 * Example: `API_KEYS=ops-key;shop-key:produce:orders.*;billing-key:consume,produce:orders.*,billing.*`.
 */

export type Scope = 'produce' | 'consume' | 'admin'
export const SCOPES: readonly Scope[] = ['produce', 'consume', 'admin']

export interface ApiKey {
  key: string
  scopes: readonly Scope[]
  /** Topic globs the key may use; undefined: every topic. */
  topics: readonly string[] | undefined
}

const KEY = /^[^\s:;,]+$/
const TOPIC_GLOB = /^[A-Za-z0-9._*-]{1,249}$/

/** One scoped entry (`key:scopes[:globs]`) → the key, or the rule it breaks (never quoting the key: it is a secret). */
function parseScoped (entry: string): ApiKey | string {
  const [key = '', scopeList = '', globList, ...rest] = entry.split(':')
  if (rest.length > 0) return 'has more than two colons (keys may not contain ":")'
  if (!KEY.test(key)) return 'the key before the first colon must not be empty or contain ","'
  const scopes = new Set<Scope>()
  for (const s of scopeList.split(',')) {
    if (s === '*') SCOPES.forEach(x => scopes.add(x))
    else if ((SCOPES as readonly string[]).includes(s)) scopes.add(s as Scope)
    else return `unknown scope "${s}" (scopes are ${SCOPES.join(', ')} or *; separate entries with ";")`
  }
  if (globList === undefined) return { key, scopes: [...scopes], topics: undefined }
  const topics = globList.split(',')
  const bad = topics.find(g => !TOPIC_GLOB.test(g))
  if (bad !== undefined) return `topic glob "${bad}" may contain only ASCII letters, digits, ".", "_", "-" and "*"`
  return { key, scopes: [...scopes], topics }
}

const isPlain = (k: ApiKey): boolean => k.topics === undefined && k.scopes === SCOPES

/** Parses API_KEYS; problems name the entry by position and the rule, never the key. */
export function parseApiKeys (raw: string | undefined): { keys: ApiKey[], problems: string[] } {
  const keys: ApiKey[] = []
  const problems: string[] = []
  const add = (key: ApiKey, entry: number): void => {
    const before = keys.find(k => k.key === key.key)
    if (before === undefined) keys.push(key)
    // a plain key listed twice was always harmless; a scoped key listed twice is ambiguous
    else if (!isPlain(before) || !isPlain(key)) problems.push(`API_KEYS: entry ${entry}: repeats a key listed before with other scopes`)
  }
  const entries = (raw ?? '').split(/[;\s]+/).filter(e => e !== '')
  entries.forEach((entry, i) => {
    if (!entry.includes(':')) {
      for (const key of entry.split(',').filter(k => k !== '')) add({ key, scopes: SCOPES, topics: undefined }, i + 1)
      return
    }
    const parsed = parseScoped(entry)
    if (typeof parsed === 'string') problems.push(`API_KEYS: entry ${i + 1}: ${parsed}`)
    else add(parsed, i + 1)
  })
  return { keys, problems }
}
