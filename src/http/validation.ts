import { Ajv, type Options } from 'ajv'
import type { FastifySchema, FastifySchemaCompiler } from 'fastify'

const common: Options = { allErrors: true, strict: false, useDefaults: true, removeAdditional: false }

/**
 * Bodies are validated strictly (no type coercion, unknown properties rejected rather than silently
 * dropped, Fastify's default); query strings and params are coerced, since everything there is text.
 */
export function createValidatorCompiler (): FastifySchemaCompiler<FastifySchema> {
  const strict = new Ajv({ ...common, coerceTypes: false })
  const coercing = new Ajv({ ...common, coerceTypes: 'array' })
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema as object)
}
