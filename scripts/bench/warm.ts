// Warm invocations, one process per variant (a proc.ts worker):
//   node scripts/bench/warm.ts <function.mjs> <bare-middy.mjs> <empty-middleware.mjs> <invocations> <batches>
// The function, bare Middy and the floor (Middy with one empty `before` middleware) on the same
// heap and CPU. One checked first invoke, then 'ready'; on 'go', <batches> tinybench runs of
// the three (order rotated each batch), <invocations>/<batches> invokes of each, a fresh
// context per invoke as the Lambda runtime gives. Mean ns per invoke per batch go back.

import { pathToFileURL } from 'node:url'
import { Bench } from 'tinybench'
import { worker } from './proc.ts'
import { rotate } from './stats.ts'

type Handler = (event: unknown, context: unknown) => Promise<unknown>

const [file, bare, floor, invocations = '100000', batches = '20'] = process.argv.slice(2)
const contextOf = () => ({
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  awsRequestId: 'warm',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 30_000,
})
const load = async (path: string) =>
  ((await import(pathToFileURL(path).href)) as { handler: Handler }).handler

const usage = 'warm.ts <function.mjs> <bare.mjs> <floor.mjs> [invocations] [batches]'
worker(usage, Boolean(file && bare && floor), async (go) => {
  const handlers = await Promise.all([file, bare, floor].map((path) => load(path as string)))
  const [handler] = handlers as [Handler]
  const first = (await handler({ verify: true }, contextOf())) as { digest?: string }
  const expected = process.env.BENCH_EXPECT
  if (expected !== undefined && first?.digest !== expected) throw new Error('wrong secrets')
  await go()
  const iterations = Math.max(1, Math.floor(Number(invocations) / Number(batches)))
  const ns: [number[], number[], number[]] = [[], [], []]
  const event = {}
  for (let batch = 0; batch < Number(batches); batch++) {
    const bench = new Bench({ iterations, time: 0, warmup: batch === 0, throws: true })
    for (const i of rotate([0, 1, 2], batch)) {
      bench.add(String(i), () => (handlers[i] as Handler)(event, contextOf()))
    }
    await bench.run()
    for (const task of bench.tasks) {
      const { result } = task
      if (result.state !== 'completed') throw new Error(`tinybench: ${result.state}`)
      ns[Number(task.name) as 0 | 1 | 2].push(result.latency.mean * 1e6)
    }
  }
  return { ns: ns[0], bare: ns[1], floor: ns[2] }
})
