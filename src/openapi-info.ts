import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger'

/** The OpenAPI document's fixed parts; paths come from the route schemas. */
export const openapiInfo: FastifyDynamicSwaggerOptions['openapi'] = {
  openapi: '3.0.3',
  info: {
    title: 'kafka-http-gateway',
    version: '0.1.0',
    description: 'Produce to Apache Kafka with one POST, run consumer groups that push every message to webhooks, ' +
      'and read the shared Redis consumer registry (syrup-kafka compatible). Errors share one shape: ' +
      '`{ statusCode, error, code, message, details? }`.'
  },
  tags: [
    { name: 'messages', description: 'Produce records' },
    { name: 'consumer-groups', description: 'Consumer groups that deliver to webhooks, and committed group event streams' },
    { name: 'consumers', description: 'The Redis consumer registry' },
    { name: 'topics', description: 'Topics: list, describe, create, delete; partition offsets, records by offset, and server-sent event streams' },
    { name: 'confluent-v2', description: 'Confluent REST Proxy v2 compatible produce' },
    { name: 'health', description: 'Liveness and readiness' },
    { name: 'operations', description: 'Metrics and the API document' }
  ],
  components: {
    securitySchemes: {
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        description: 'One of the keys in API_KEYS (when set), sent as `Authorization: Bearer <key>`. A key may be limited to scopes ' +
          '(`produce`, `consume`, `admin`) and topic globs; each route says which scope it needs.'
      }
    }
  },
  security: [{ bearerAuth: [] }]
}
