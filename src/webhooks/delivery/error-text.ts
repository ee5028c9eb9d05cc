/** How errors and receiver text read in logs, group status and dead letters: one line, with the error's code. */

export function errorText (err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const code = (err as { code?: unknown }).code
  let text = err.message
  // happy-eyeballs connect failures are AggregateErrors with an empty message
  if (text === '' && err instanceof AggregateError && err.errors[0] instanceof Error) text = err.errors[0].message
  if (text === '') text = err.name
  return typeof code === 'string' && !text.includes(code) ? `${code}: ${text}` : text
}

export function oneLine (s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()
}
