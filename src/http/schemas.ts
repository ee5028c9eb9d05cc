import { Type } from 'typebox'

export const ErrorDetailSchema = Type.Object({
  field: Type.Optional(Type.String({ description: 'Where the problem is, e.g. `body/messages/0/value` or `query/groupId`' })),
  rule: Type.Optional(Type.String({ description: 'The rule that was broken, e.g. `required`, `maxLength`, `partitionRange`' })),
  message: Type.String({ description: 'What is wrong, in words' })
}, { additionalProperties: true, description: 'One problem with the request' })

export const ErrorSchema = Type.Object({
  statusCode: Type.Integer({ description: 'HTTP status code' }),
  error: Type.String({ description: 'HTTP status text' }),
  code: Type.String({ description: 'Stable machine-readable code, prefixed GW_ (see README, "Errors")' }),
  message: Type.String({ description: 'Human-readable explanation' }),
  details: Type.Optional(Type.Array(ErrorDetailSchema, { description: 'Per-field problems, when there are several or a field is at fault' }))
}, { $id: 'Error', description: 'The one error shape of every 4xx/5xx answer', additionalProperties: false })

export const errorResponses = (...codes: number[]): Record<number, typeof ErrorSchema> =>
  Object.fromEntries(codes.map(c => [c, ErrorSchema]))
