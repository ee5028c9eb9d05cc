/**
 * The undici dispatch handler of one HTTP attempt: settles the attempt's promise once with what it came
 * to. A 2xx body is discarded as it arrives; a failing one keeps its first ERROR_BODY_BYTES and the
 * connection is dropped past DRAIN_LIMIT_BYTES. The attempt's timeout (connect + headers + body) and a
 * stop of its delivery settle it at once, even while the request still waits for a connection.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'
import { AbortedError, type Active } from './active.js'
import type { PreparedWebhook } from './prepared-webhook.js'
import { DRAIN_LIMIT_BYTES, ERROR_BODY_BYTES, failedResponseOutcome, requestErrorOutcome, statusText, type AttemptOutcome } from './response.js'

const EMPTY_HEADERS: IncomingHttpHeaders = {}

export class AttemptHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined
  /** Why the request must end (timeout, stop) when it had not started yet. */
  private pendingAbort: Error | undefined
  private settled = false
  private timedOut = false
  private readonly timer: NodeJS.Timeout
  private status = 0
  private headers: IncomingHttpHeaders = EMPTY_HEADERS
  private kept: Buffer[] | undefined
  private size = 0

  constructor (
    private readonly p: PreparedWebhook,
    private readonly a: Active,
    private readonly resolve: (o: AttemptOutcome) => void,
    private readonly reject: (err: Error) => void
  ) {
    this.timer = setTimeout(() => {
      this.timedOut = true
      this.abort(new Error('timeout'))
      this.finish({ kind: 'error', error: `timeout after ${p.timeoutMs} ms`, timeout: true, detail: `timeout after ${p.timeoutMs} ms` })
    }, p.timeoutMs)
  }

  /** Stops the request (the delivery was stopped): the attempt rejects with AbortedError. */
  abort (reason: Error): void {
    if (this.controller !== undefined) this.controller.abort(reason)
    else this.pendingAbort = reason
    if (this.a.stopReason !== undefined) this.finish(undefined)
  }

  onRequestStart (controller: Dispatcher.DispatchController): void {
    this.controller = controller
    if (this.pendingAbort !== undefined) controller.abort(this.pendingAbort)
  }

  onResponseStart (_c: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return // 1xx: the final response follows
    this.status = statusCode
    if (statusCode || statusCode >= 300) {
      this.headers = headers
      this.kept = []
    }
  }

  onResponseData (c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.kept === undefined) return
    if (this.size < ERROR_BODY_BYTES) this.kept.push(chunk.subarray(0, ERROR_BODY_BYTES - this.size))
    this.size += chunk.length
    // closes the connection rather than read a huge body: the status is what counts
    if (this.size > DRAIN_LIMIT_BYTES) {
      this.finish(this.responseOutcome())
      c.abort(new Error('error body too large'))
    }
  }

  onResponseEnd (): void {
    this.finish(this.responseOutcome())
  }

  onResponseError (_c: Dispatcher.DispatchController | undefined, err: Error): void {
    if (this.a.stopReason !== undefined) this.finish(undefined)
    // a body that fails midway still leaves the status
    else if (this.status !== 0) this.finish(this.responseOutcome())
    else this.finish(requestErrorOutcome(err, this.timedOut, this.p.timeoutMs, this.p.scrub))
  }

  private responseOutcome (): AttemptOutcome {
    const status = this.status
    if (this.kept === undefined) return { kind: 'response', status, detail: statusText(status) }
    return failedResponseOutcome(status, this.headers, Buffer.concat(this.kept).toString('utf8'), this.p.scrub)
  }

  /** Settles once: an outcome, or undefined for "stopped" (AbortedError). */
  private finish (outcome: AttemptOutcome | undefined): void {
    if (this.settled) return
    this.settled = true
    clearTimeout(this.timer)
    if (this.a.attempt === this) this.a.attempt = undefined
    if (outcome === undefined) this.reject(new AbortedError('aborted'))
    else this.resolve(outcome)
  }
}
