/** Schemas shared by the two server-sent event routes (topic-events.ts, group-events.ts). */
import { Type } from 'typebox'

export const FromSchema = Type.Optional(Type.Enum(['latest', 'earliest'], {
  default: 'latest',
  description: 'Where partitions without a position start: `latest` (only records produced from now on, the default) or `earliest` (every record kept)'
}))

/** The 200 of an event stream, as the OpenAPI document shows it (the stream is written by src/sse/writer.ts). */
export const eventStreamResponse = (description: string): Record<string, unknown> => ({
  description,
  content: { 'text/event-stream': { schema: { type: 'string', description: 'Server-sent events (see the route description)' } } }
})
