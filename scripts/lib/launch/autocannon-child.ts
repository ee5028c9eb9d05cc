/**
 * The load generator's own process (forked by autocannonInChild in ./autocannon.js): receives one set of
 * autocannon options over IPC, runs it, sends back the result and exits.
 */
import { autocannon, type AutocannonOptions, type ChildReply } from './autocannon.js'

process.once('message', (opts: AutocannonOptions) => {
  const reply = (msg: ChildReply): void => {
    if (process.send === undefined) {
      process.exit(1)
    }
    process.send(msg, () => { process.disconnect() })
  }
  autocannon(opts).then(
    result => { reply({ ok: true, result }) },
    (err: unknown) => { reply({ ok: false, error: err instanceof Error ? err.message : String(err) }) }
  )
})
