// Warm invocations, in one process per pattern started by run.ts with an IPC channel:
//   node scripts/bench/warm.ts <function.mjs> <baseline.mjs> <floor.mjs> <invocations> <batches>
// Imports the function, the baseline (bare Middy) and the floor (Middy with one empty
// `before` middleware) side by side in the same process, so all three run on the same
// heap and CPU. First invoke (cold, checked) and a warm-up, then 'ready'; run.ts resets
// the proxy's counts and answers 'go'; then <invocations> warm invokes of each, in
// <batches> batches, each batch running the three in turn (order changed every batch).
// ns per invoke per batch go back as 'result'.

import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { readyThenGo, runChild, send, startedByRun } from './ipc-child.ts'

type Handler = (event: unknown, ctx: unknown) => Promise<unknown>

const [file, baselineFile, floorFile, invocationsText = '100000', batchesText = '20'] =
  process.argv.slice(2)
startedByRun(
  file && baselineFile && floorFile,
  'warm.ts <function.mjs> <baseline.mjs> <floor.mjs> [invocations] [batches]',
)
const invocations = Number(invocationsText)
const batches = Number(batchesText)
const perBatch = Math.max(1, Math.floor(invocations / batches))

const remaining = () => 30_000
// A fresh context per invoke, as the Lambda runtime gives.
const contextOf = () => ({
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  awsRequestId: 'warm',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: remaining,
})
const event = {}

const timed = async (handler: Handler, count: number): Promise<number> => {
  const start = performance.now()
  for (let i = 0; i < count; i++) await handler(event, contextOf())
  return ((performance.now() - start) * 1e6) / count
}

const load = async (path: string) =>
  ((await import(pathToFileURL(path).href)) as { handler: Handler }).handler

// The six orders of (function, baseline, floor), one per batch in turn, so that each
// runs first, second and last equally often.
const ORDERS = [
  [0, 1, 2],
  [2, 1, 0],
  [1, 2, 0],
  [0, 2, 1],
  [2, 0, 1],
  [1, 0, 2],
] as const

const main = async () => {
  const handler = await load(file)
  const baseline = await load(baselineFile)
  const floor = await load(floorFile)
  const first = (await handler({ verify: true }, contextOf())) as { digest?: string }
  const expected = process.env.BENCH_EXPECT
  if (expected !== undefined && first?.digest !== expected) throw new Error('wrong secrets')
  const handlers = [handler, baseline, floor]
  for (let i = 0; i < 4; i++) {
    for (const each of handlers) await timed(each, Math.min(5_000, perBatch))
  }
  await readyThenGo()
  const ns: [number[], number[], number[]] = [[], [], []]
  for (let b = 0; b < batches; b++) {
    for (const which of ORDERS[b % ORDERS.length] as readonly number[]) {
      ns[which]?.push(await timed(handlers[which] as Handler, perBatch))
    }
  }
  const [nsPerInvoke, baselineNs, floorNs] = ns
  send({ type: 'result', nsPerInvoke, baselineNs, floorNs, invocations: perBatch * batches })
}

runChild(main)
