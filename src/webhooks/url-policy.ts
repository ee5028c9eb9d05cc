/**
 * What a webhook may point at and which headers it may add: checked when a consumer group is defined
 * (400 on a problem), before anything is sent.
 *
 * Allow-list entries (config WEBHOOK_ALLOWED_HOSTS; empty = any host):
 * - `hooks.example.com`: that host name exactly (case-insensitive, a trailing dot ignored);
 * - `*.example.com`: any name below example.com (`a.example.com`, `a.b.example.com`), not example.com itself;
 * - `10.0.0.0/8`, `fd00::/8`: an IP literal in the URL inside the CIDR block (IPv4-mapped IPv6 included);
 * - `127.0.0.1`, `::1`: that address (as /32 or /128).
 * Names are matched as written in the URL: a host name is not resolved, so a CIDR entry admits only URLs
 * whose host is an IP literal, and a name entry vouches for whatever that name resolves to.
 *
 * Blocked addresses (config WEBHOOK_BLOCKED_ADDRESSES; by default the cloud metadata services and the
 * link-local ranges they live in) are refused whatever the allow-list says: an IP literal in the URL when
 * the group is defined, and a name resolving to one when the webhook agent connects (its DNS lookup is
 * guarded), so a name cannot route a delivery — and the response body it records — to them.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns'
import { BlockList, isIP, type LookupFunction } from 'node:net'

export const MAX_URL_LENGTH = 2048
export const MAX_HEADER_NAME_LENGTH = 256
export const MAX_HEADER_VALUE_LENGTH = 8192
export const MAX_CUSTOM_HEADERS = 32

/**
 * Request headers a webhook cannot set: the gateway writes them (signature, body framing, identity) or
 * they are connection-level and would break the request.
 */
export const RESERVED_REQUEST_HEADERS: readonly string[] = Object.freeze([
  'webhook-id', 'webhook-timestamp', 'webhook-signature',
  'content-type', 'content-length', 'content-encoding', 'transfer-encoding',
  'host', 'user-agent',
  'connection', 'keep-alive', 'upgrade', 'expect', 'te', 'trailer', 'proxy-connection'
])

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// field-value: HTAB, visible ASCII, space, obs-text (0x80-0xFF); never CR, LF, NUL or other controls
const FIELD_VALUE = /^[\t\x20-\x7E\x80-\xFF]*$/
const HOST_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/

interface CompiledAllowList {
  names: Set<string>
  suffixes: string[]
  ips: BlockList
  empty: boolean
}

function normalizeName (host: string): string {
  return host.toLowerCase().replace(/\.$/, '')
}

function stripBrackets (host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

function isHostName (name: string): boolean {
  return name.length > 0 && name.length <= 253 && name.split('.').every(l => HOST_LABEL.test(l))
}

/** Why `entry` is not a valid allow-list entry, or undefined. */
export function allowListEntryProblem (entry: string): string | undefined {
  const e = entry.trim()
  if (e === '') return 'must not be empty'
  const slash = e.indexOf('/')
  if (slash >= 0) {
    const ip = stripBrackets(e.slice(0, slash))
    const bits = e.slice(slash + 1)
    const family = isIP(ip)
    if (family === 0) return `"${e}": a CIDR block must start with an IPv4 or IPv6 address`
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128)) return `"${e}": prefix length must be 0-${family === 4 ? 32 : 128}`
    return undefined
  }
  if (isIP(stripBrackets(e)) !== 0) return undefined
  const name = normalizeName(e.startsWith('*.') ? e.slice(2) : e)
  if (!isHostName(name)) return `"${e}": must be a host name, "*.domain", an IP address or a CIDR block`
  return undefined
}

const compiled = new WeakMap<readonly string[], CompiledAllowList>()

function compile (entries: readonly string[]): CompiledAllowList {
  const hit = compiled.get(entries)
  if (hit !== undefined) return hit
  // a list whose every entry is invalid is not "empty = allow all": it allows nothing
  const list: CompiledAllowList = { names: new Set(), suffixes: [], ips: new BlockList(), empty: entries.every(e => e.trim() === '') }
  for (const raw of entries) {
    const e = raw.trim()
    if (e === '' || allowListEntryProblem(e) !== undefined) continue // invalid entries admit nothing
    const slash = e.indexOf('/')
    if (slash >= 0) {
      const ip = stripBrackets(e.slice(0, slash))
      list.ips.addSubnet(ip, Number(e.slice(slash + 1)), isIP(ip) === 4 ? 'ipv4' : 'ipv6')
    } else if (isIP(stripBrackets(e)) !== 0) {
      const ip = stripBrackets(e)
      list.ips.addAddress(ip, isIP(ip) === 4 ? 'ipv4' : 'ipv6')
    } else if (e.startsWith('*.')) {
      list.suffixes.push(`.${normalizeName(e.slice(2))}`)
    } else {
      list.names.add(normalizeName(e))
    }
  }
  compiled.set(entries, list)
  return list
}

/** Whether `hostname` (as URL.hostname gives it: IPv6 in brackets) is admitted by the allow-list. */
export function hostAllowed (hostname: string, allowedHosts: readonly string[]): boolean {
  const list = compile(allowedHosts)
  if (list.empty) return true
  const host = stripBrackets(hostname)
  const family = isIP(host)
  if (family !== 0) return list.ips.check(host, family === 4 ? 'ipv4' : 'ipv6')
  const name = normalizeName(host)
  if (list.names.has(name)) return true
  return list.suffixes.some(s => name.endsWith(s) && name.length > s.length)
}

/** Refused by default: link-local (cloud metadata at 169.254.169.254, fe80::/10), Alibaba's and AWS's IPv6 metadata addresses. */
export const DEFAULT_BLOCKED_ADDRESSES: readonly string[] = Object.freeze(['169.254.0.0/16', 'fe80::/10', '100.100.100.200/32', 'fd00:ec2::254/128'])

/** Why `entry` is not a valid blocked-address entry (an IP address or CIDR block), or undefined. */
export function blockedEntryProblem (entry: string): string | undefined {
  const e = entry.trim()
  const ip = stripBrackets(e.includes('/') ? e.slice(0, e.indexOf('/')) : e)
  if (isIP(ip) === 0) return `"${e}": must be an IP address or a CIDR block`
  return allowListEntryProblem(e)
}

/** Whether the IP `address` falls in a blocked entry (BlockList matches IPv4-mapped IPv6 addresses against IPv4 entries). */
export function addressBlocked (address: string, blocked: readonly string[]): boolean {
  if (blocked.length === 0) return false
  const ip = stripBrackets(address)
  const family = isIP(ip)
  // blocked entries are IPs and CIDR blocks only (blockedEntryProblem): the allow-list's compiled IP set is theirs
  return family !== 0 && compile(blocked).ips.check(ip, family === 4 ? 'ipv4' : 'ipv6')
}

/** The error code of a connection refused because its host resolved to a blocked address. */
export const BLOCKED_ADDRESS_CODE = 'EWEBHOOKBLOCKED'

/** A DNS lookup for the webhook agent that fails when the name resolves to a blocked address. */
export function guardedLookup (blocked: readonly string[]): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, options as LookupOptions, (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => {
      if (err !== null) {
        callback(err, '', 0)
        return
      }
      const all = Array.isArray(address) ? address : [{ address, family: family ?? 4 }]
      const bad = all.find(a => addressBlocked(a.address, blocked))
      if (bad !== undefined) {
        const e: NodeJS.ErrnoException = new Error(`webhook host "${hostname}" resolves to ${bad.address}, a blocked address (WEBHOOK_BLOCKED_ADDRESSES)`)
        e.code = BLOCKED_ADDRESS_CODE
        callback(e, '', 0)
        return
      }
      // the callback's shape follows options.all, as dns.lookup's does
      ;(callback as (e: null, a: string | LookupAddress[], f?: number) => void)(null, address, family)
    })
  }
}

/** Why `url` cannot be a webhook URL, or undefined. */
export function webhookUrlProblem (url: string, allowedHosts: readonly string[] = [], blockedAddresses: readonly string[] = []): string | undefined {
  if (url.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'must be an absolute URL'
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `scheme must be http or https (got "${parsed.protocol.replace(/:$/, '')}")`
  if (parsed.username !== '' || parsed.password !== '') return 'must not contain credentials (use a custom header such as Authorization)'
  if (parsed.hostname === '') return 'must name a host'
  if (addressBlocked(parsed.hostname, blockedAddresses)) return `host "${parsed.hostname}" is a blocked address (WEBHOOK_BLOCKED_ADDRESSES: cloud metadata and link-local by default)`
  if (!hostAllowed(parsed.hostname, allowedHosts)) return `host "${parsed.hostname}" is not in the allowed hosts (WEBHOOK_ALLOWED_HOSTS)`
  return undefined
}

/** Why a custom webhook header cannot be sent, or undefined. Never echoes the (secret) value. */
export function headerProblem (name: string, value: string): string | undefined {
  if (name.length === 0 || name.length > MAX_HEADER_NAME_LENGTH || !TOKEN.test(name)) return `header name "${name.slice(0, 64)}" must be an HTTP token (RFC 7230) of 1-${MAX_HEADER_NAME_LENGTH} characters`
  if (RESERVED_REQUEST_HEADERS.includes(name.toLowerCase())) return `header "${name}" is set by the gateway and cannot be overridden`
  if (value.length > MAX_HEADER_VALUE_LENGTH) return `header "${name}" value must be at most ${MAX_HEADER_VALUE_LENGTH} characters`
  if (!FIELD_VALUE.test(value)) return `header "${name}" value must not contain CR, LF, NUL or other control characters`
  return undefined
}

/** Every custom header checked, plus count and case-insensitive duplicates; the first problem, or undefined. */
export function headersProblem (headers: Record<string, string>): string | undefined {
  const names = Object.keys(headers)
  if (names.length > MAX_CUSTOM_HEADERS) return `at most ${MAX_CUSTOM_HEADERS} custom headers`
  const seen = new Set<string>()
  for (const name of names) {
    const value = headers[name]
    if (typeof value !== 'string') return `header "${name}" value must be a string`
    const problem = headerProblem(name, value)
    if (problem !== undefined) return problem
    const lower = name.toLowerCase()
    if (seen.has(lower)) return `header "${name}" is given twice (header names are case-insensitive)`
    seen.add(lower)
  }
  return undefined
}
