/** The gateway's one error shape, checked from the outside: `{ statusCode, error, code, message, details? }`. */

const KEYS = new Set(['statusCode', 'error', 'code', 'message', 'details'])

/**
 * Why `body` (the raw response text) is not the error shape for an answer with `status`, or undefined.
 * `details`, when present, is an array of `{ field?, rule?, message }` with string values.
 */
export function errorShapeProblem (status: number, body: string, contentType: string | string[] | number | undefined): string | undefined {
  if (typeof contentType !== 'string' || !contentType.startsWith('application/json')) return `content-type is ${String(contentType)}, not application/json`
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return `body is not JSON: ${body.slice(0, 200)}`
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return 'body is not a JSON object'
  const o = parsed as Record<string, unknown>
  const extra = Object.keys(o).filter(k => !KEYS.has(k))
  if (extra.length > 0) return `unexpected properties ${extra.join(', ')}`
  if (o.statusCode !== status) return `statusCode ${String(o.statusCode)} differs from the HTTP status ${status}`
  if (typeof o.error !== 'string' || o.error === '') return 'error is not a non-empty string'
  if (typeof o.code !== 'string' || !/^GW_[A-Z_]+$/.test(o.code)) return `code ${String(o.code)} is not a GW_ code`
  if (typeof o.message !== 'string' || o.message === '') return 'message is not a non-empty string'
  if (o.details !== undefined) {
    if (!Array.isArray(o.details)) return 'details is not an array'
    for (const [i, d] of o.details.entries()) {
      if (d === null || typeof d !== 'object' || Array.isArray(d)) return `details/${i} is not an object`
      const detail = d as Record<string, unknown>
      if (typeof detail.message !== 'string') return `details/${i}/message is not a string`
      if (detail.field !== undefined && typeof detail.field !== 'string') return `details/${i}/field is not a string`
      if (detail.rule !== undefined && typeof detail.rule !== 'string') return `details/${i}/rule is not a string`
    }
  }
  return undefined
}

/** The parsed error body (call after errorShapeProblem returned undefined). */
export interface ErrorBody {
  statusCode: number
  error: string
  code: string
  message: string
  details?: Array<{ field?: string, rule?: string, message: string }>
}
