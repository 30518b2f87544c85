// Warm invocations, in one process per pattern started by run.ts with an IPC channel:
//   node scripts/bench/warm.ts <function.mjs> <baseline.mjs> <invocations> <batches>
// Imports the function and the baseline (bare Middy) side by side in the same
// process, so both run on the same heap and CPU. First invoke (cold, checked) and a
// warm-up, then 'ready'; run.ts resets the proxy's counts and answers 'go'; then
// <invocations> warm invokes of each, in <batches> batches alternating function and
// baseline (order flipped each batch). ns per invoke per batch go back as 'result'.

import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'

type Handler = (event: unknown, ctx: unknown) => Promise<unknown>

const [file, baselineFile, invocationsText = '100000', batchesText = '20'] = process.argv.slice(2)
if (!file || !baselineFile || !process.send) {
  process.stderr.write(
    'usage: started by run.ts with IPC: warm.ts <function.mjs> <baseline.mjs> [invocations] [batches]\n',
  )
  process.exit(2)
}
const send = process.send.bind(process)
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

const main = async () => {
  const handler = await load(file)
  const baseline = await load(baselineFile)
  const first = (await handler({ verify: true }, contextOf())) as { digest?: string }
  const expected = process.env.BENCH_EXPECT
  if (expected !== undefined && first?.digest !== expected) throw new Error('wrong secrets')
  for (let i = 0; i < 4; i++) {
    await timed(handler, Math.min(5_000, perBatch))
    await timed(baseline, Math.min(5_000, perBatch))
  }
  const go = new Promise<void>((resolve) => process.once('message', () => resolve()))
  send({ type: 'ready' })
  await go
  const nsPerInvoke: number[] = []
  const baselineNs: number[] = []
  for (let b = 0; b < batches; b++) {
    if (b % 2 === 0) {
      nsPerInvoke.push(await timed(handler, perBatch))
      baselineNs.push(await timed(baseline, perBatch))
    } else {
      baselineNs.push(await timed(baseline, perBatch))
      nsPerInvoke.push(await timed(handler, perBatch))
    }
  }
  send({ type: 'result', nsPerInvoke, baselineNs, invocations: perBatch * batches })
}

main().then(
  () => process.disconnect(),
  (error: Error) => {
    send({ type: 'error', message: `${error.name}: ${error.message}` })
    process.disconnect()
    process.exitCode = 1
  },
)
