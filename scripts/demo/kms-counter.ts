// Counts the KMS requests a Node process sends (by X-Amz-Target), from Node's own
// `http.client.request.start` diagnostics channel: nothing is patched, and it sees the
// requests of any AWS SDK copy (a function's bundle has its own). Retries count: they
// are what KMS receives. Dev tooling for the demo, never bundled.
//
// - In process: `const counter = countKmsRequests(); ...; counter.counts()`.
// - In a function's process (how the demo counts against real AWS, where no proxy can):
//   NODE_OPTIONS="--import=<file URL of this module>?out=<URL-encoded path>": the counts
//   are written to that path as JSON when the process exits.

import { subscribe } from 'node:diagnostics_channel'
import { writeFileSync } from 'node:fs'
import type { ClientRequest } from 'node:http'

export interface KmsRequestCounter {
  /** Requests by X-Amz-Target, e.g. { 'TrentService.Decrypt': 1 }. */
  counts(): Record<string, number>
}

export function countKmsRequests(): KmsRequestCounter {
  const counts: Record<string, number> = {}
  subscribe('http.client.request.start', (message) => {
    const { request } = message as { request: ClientRequest }
    const target = request.getHeader('x-amz-target')
    if (typeof target === 'string' && target.startsWith('TrentService.')) {
      counts[target] = (counts[target] ?? 0) + 1
    }
  })
  return { counts: () => ({ ...counts }) }
}

const out = new URL(import.meta.url).searchParams.get('out')
if (out !== null) {
  const counter = countKmsRequests()
  // Lambda (and npm run invoke) end the runtime's process with SIGTERM: exit, so 'exit' runs.
  process.on('SIGTERM', () => process.exit(0))
  process.on('exit', () => {
    try {
      writeFileSync(out, JSON.stringify(counter.counts()))
    } catch {
      // The demo then reports the count as unknown.
    }
  })
}
