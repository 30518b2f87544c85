// One cold start, in a fresh Node process started by run.ts:
//   node scripts/bench/cold-start.ts <function.mjs> [--load-only]
// Imports the bundled function, invokes its handler once with `{ verify: true }` and
// prints one JSON line: module load ms, start -> first response ms (from just before
// the import to the handler's answer), peak RSS, and whether the secrets' digest
// matched BENCH_EXPECT (the values themselves are never printed). With --load-only it
// prints the module load time and exits without invoking (a prefetch in flight dies).
// Module load is also given as main-thread CPU time (process.threadCpuUsage).

import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'

const file = process.argv[2]
const loadOnly = process.argv[3] === '--load-only'
if (!file) {
  process.stderr.write('usage: node scripts/bench/cold-start.ts <function.mjs>\n')
  process.exit(2)
}

const context = {
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  awsRequestId: 'cold-start',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 30_000,
}

/** CPU time of this (main) thread in ms: what background load on the machine does not inflate. */
const cpuMs = () => {
  const { user, system } = process.threadCpuUsage()
  return (user + system) / 1000
}

try {
  const cpuStart = cpuMs()
  const start = performance.now()
  const fn = (await import(pathToFileURL(file).href)) as {
    handler: (event: unknown, ctx: unknown) => Promise<{ digest?: string }>
  }
  const loaded = performance.now()
  const loadCpuMs = cpuMs() - cpuStart
  if (loadOnly) {
    process.stdout.write(`${JSON.stringify({ loadMs: loaded - start, loadCpuMs })}\n`)
    process.exit(0)
  }
  const response = await fn.handler({ verify: true }, context)
  const answered = performance.now()
  const expected = process.env.BENCH_EXPECT
  const result = {
    loadMs: loaded - start,
    loadCpuMs,
    firstResponseMs: answered - start,
    maxRssKb: process.resourceUsage().maxRSS,
    verified: expected === undefined ? null : response?.digest === expected,
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
  process.exit(0)
} catch (error) {
  const { name, message, code } = error as { name?: string; message?: string; code?: string }
  process.stdout.write(`${JSON.stringify({ error: { name, code, message } })}\n`)
  process.exit(1)
}
