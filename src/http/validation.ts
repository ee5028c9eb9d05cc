import { Ajv, type Options, type ValidateFunction } from 'ajv'
import type { FastifySchema, FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify'

type FastifyValidationResult = ReturnType<FastifySchemaCompiler<FastifySchema>>

const common: Options = { allErrors: true, strict: false, useDefaults: true, removeAdditional: false }

/**
 * How deeply a JSON body may nest (the body object itself is level 1). JSON.parse copes with any depth,
 * but recursive code after it (JSON.stringify of a record value, the idempotency hash) overflows the
 * stack a few thousand levels down; real payloads never come near this bound.
 */
export const MAX_BODY_DEPTH = 256

/**
 * The JSON-pointer-ish path (`/messages`, `/value`) of the top-level property under which `data` nests
 * deeper than `maxDepth` containers, or undefined. Iterative, so depth cannot overflow the stack itself.
 */
export function tooDeep (data: unknown, maxDepth: number = MAX_BODY_DEPTH): string | undefined {
  if (data === null || typeof data !== 'object') return undefined
  const values: object[] = [data]
  const depths: number[] = [1]
  const roots: string[] = ['']
  while (values.length > 0) {
    const value = values.pop() as object
    const depth = depths.pop() as number
    const root = roots.pop() as string
    if (depth > maxDepth) return root
    const visit = (key: string | number, child: unknown): void => {
      if (child === null || typeof child !== 'object') return
      values.push(child)
      depths.push(depth + 1)
      roots.push(depth === 1 ? `/${key}` : root)
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) visit(i, value[i])
    } else {
      for (const [key, child] of Object.entries(value)) visit(key, child)
    }
  }
  return undefined
}

/** The body validator behind a depth guard, so over-deep bodies are a 400 naming the field instead of a stack overflow. */
function depthGuarded (validate: ValidateFunction): FastifyValidationResult {
  const guarded: FastifyValidationResult = (data: unknown) => {
    const at = tooDeep(data)
    if (at !== undefined) {
      const issue: FastifySchemaValidationError = {
        keyword: 'maxDepth',
        instancePath: at,
        schemaPath: '#',
        params: { limit: MAX_BODY_DEPTH },
        message: `must not nest more than ${MAX_BODY_DEPTH} levels of objects and arrays`
      }
      guarded.errors = [issue]
      return false
    }
    const ok = validate(data)
    guarded.errors = validate.errors as FastifySchemaValidationError[] | null | undefined
    return ok
  }
  return guarded
}

/**
 * Bodies are validated strictly (no type coercion, unknown properties rejected rather than silently
 * dropped, Fastify's default) and refused beyond MAX_BODY_DEPTH levels of nesting; query strings and
 * params are coerced, since everything there is text.
 */
export function createValidatorCompiler (): FastifySchemaCompiler<FastifySchema> {
  const strict = new Ajv({ ...common, coerceTypes: false })
  const coercing = new Ajv({ ...common, coerceTypes: 'array' })
  return ({ schema, httpPart }) => httpPart === 'body'
    ? depthGuarded(strict.compile(schema as object))
    : coercing.compile(schema as object)
}
