// Counts the KMS requests a Node process sends (by X-Amz-Target) from Node's own
// `http.client.request.start` channel: nothing patched, any AWS SDK copy seen, retries counted.
// How the demo counts against real AWS, where no proxy can: a function's process loads it with
// NODE_OPTIONS="--import=<file URL of this module>?out=<path>" and writes the counts at exit.

import { subscribe } from 'node:diagnostics_channel'
import { writeFileSync } from 'node:fs'
import type { ClientRequest } from 'node:http'

const counts: Record<string, number> = {}
subscribe('http.client.request.start', (message) => {
  const target = (message as { request: ClientRequest }).request.getHeader('x-amz-target')
  if (typeof target === 'string' && target.startsWith('TrentService.')) {
    counts[target] = (counts[target] ?? 0) + 1
  }
})

const out = new URL(import.meta.url).searchParams.get('out')
if (out !== null) {
  // Lambda (and npm run invoke) end the runtime's process with SIGTERM: exit, so 'exit' runs.
  process.on('SIGTERM', () => process.exit(0))
  process.on('exit', () => writeFileSync(out, JSON.stringify(counts)))
}
