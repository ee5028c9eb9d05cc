/** The User-Agent webhook requests carry. */
export const USER_AGENT_PRODUCT = 'kafka-http-gateway'

/** `kafka-http-gateway/<version>`. */
export function userAgentFor (version: string): string {
  return `${USER_AGENT_PRODUCT}/${version}`
}
