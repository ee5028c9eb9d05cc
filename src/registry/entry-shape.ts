/**
 * Reading registry fields other processes may have written: syrup-kafka, an operator's HSET, a bug.
 * A field is JSON `{ topic: { groupId, partitions, ... } }`; whatever does not have that shape is kept
 * apart, with the rule it breaks, so the registry routes can show it as it is instead of failing.
 */
import type { RegistryEntry, RegistryGroupEntry } from './keys.js'

/** A field or one topic of it that is not in the registry format: why, and the value as found. */
export interface Unreadable {
  reason: string
  /** The stored value (JSON-decoded when it could be), or its first RAW_PREVIEW_BYTES characters. */
  raw: unknown
}

export interface ParsedEntry {
  /** The topics in the registry format. */
  entry: RegistryEntry
  /** Topic → why its value is not in the format; `WHOLE_FIELD` when the field itself is unreadable. */
  unreadable: Record<string, Unreadable>
}

/** Not a possible Kafka topic name, so it cannot collide with one. */
export const WHOLE_FIELD = '(unreadable)'
/** Values larger than this are shown as a truncated preview. */
export const RAW_PREVIEW_BYTES = 4096

const OPTIONAL_STRINGS = ['memberId', 'leaderId', 'groupProtocol'] as const

export function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function describe (v: unknown): string {
  const text = JSON.stringify(v) ?? String(v)
  return text.length > 40 ? `${text.slice(0, 40)}…` : text
}

/** Why `v` is not one group's part of a topic entry (`at`: where it sits, '' at the top), or undefined when it is. */
function groupProblem (v: unknown, at: string): string | undefined {
  const field = (name: string): string => at === '' ? name : `${at}/${name}`
  if (!isObject(v)) return `${at === '' ? 'value' : at}: expected an object, found ${describe(v)}`
  if (typeof v.groupId !== 'string') return `${field('groupId')}: expected a string, found ${describe(v.groupId)}`
  if (!Array.isArray(v.partitions) || !v.partitions.every(p => Number.isSafeInteger(p) && (p as number) >= 0)) {
    return `${field('partitions')}: expected an array of partition numbers, found ${describe(v.partitions)}`
  }
  for (const name of OPTIONAL_STRINGS) {
    if (v[name] !== undefined && typeof v[name] !== 'string') return `${field(name)}: expected a string, found ${describe(v[name])}`
  }
  if (v.isLeader !== undefined && typeof v.isLeader !== 'boolean') return `${field('isLeader')}: expected a boolean, found ${describe(v.isLeader)}`
  return undefined
}

/** Why a topic's value breaks the format, or undefined when it is readable. */
export function topicValueProblem (v: unknown): string | undefined {
  const top = groupProblem(v, '')
  if (top !== undefined || !isObject(v) || v.groups === undefined) return top
  if (!Array.isArray(v.groups)) return `groups: expected an array, found ${describe(v.groups)}`
  for (const [i, g] of v.groups.entries()) {
    const problem = groupProblem(g, `groups/${i}`)
    if (problem !== undefined) return problem
  }
  return undefined
}

function preview (text: string): string {
  return text.length > RAW_PREVIEW_BYTES ? `${text.slice(0, RAW_PREVIEW_BYTES)}… (${text.length} characters)` : text
}

/** Splits one registry field into its readable topics and what is not. */
export function parseEntry (text: string): ParsedEntry {
  let decoded: unknown
  try {
    decoded = JSON.parse(text)
  } catch (err) {
    return { entry: {}, unreadable: { [WHOLE_FIELD]: { reason: `not JSON: ${(err as Error).message}`, raw: preview(text) } } }
  }
  if (!isObject(decoded)) {
    return { entry: {}, unreadable: { [WHOLE_FIELD]: { reason: `expected a JSON object of topics, found ${describe(decoded)}`, raw: text.length > RAW_PREVIEW_BYTES ? preview(text) : decoded } } }
  }
  const entry: RegistryEntry = {}
  const unreadable: Record<string, Unreadable> = {}
  for (const [topic, value] of Object.entries(decoded)) {
    const problem = topicValueProblem(value)
    if (problem === undefined) {
      entry[topic] = value as RegistryGroupEntry & { groups?: RegistryGroupEntry[] }
      continue
    }
    const json = JSON.stringify(value)
    unreadable[topic] = { reason: problem, raw: json.length > RAW_PREVIEW_BYTES ? preview(json) : value }
  }
  return { entry, unreadable }
}
