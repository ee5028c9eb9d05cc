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

export const ConfluentErrorSchema = Type.Object({
  error_code: Type.Integer({ description: 'Confluent\'s code: 40401 unknown topic, 40402 unknown partition, 40403 unknown consumer instance, 40902 instance name taken, 40903 illegal state (e.g. no subscription), 50003 retriable (Kafka or the instance\'s owner unavailable); else the HTTP status' }),
  message: Type.String({ description: 'What is wrong, naming the field and the rule' })
}, { description: 'Confluent REST Proxy\'s error shape (its routes only)' })

export const confluentErrorResponses = (...codes: number[]): Record<number, typeof ConfluentErrorSchema> =>
  Object.fromEntries(codes.map(c => [c, ConfluentErrorSchema]))
