// The bench's child processes besides the cold starts, one mode each (see phases.ts), started
// with IPC: an optional 'ready' (the parent answers 'go'), then one 'result' or 'error'. Each mode
// imports what it needs itself, so that `load` times the function's import and nothing else.

import { pathToFileURL } from 'node:url'
import type { KMSClientConfig } from '@aws-sdk/client-kms'
import { rotate } from './stats.ts'

type Handler = (event: object, context: object) => Promise<{ digest?: string }>
type Mode = (args: string[], go: () => Promise<void>) => Promise<object>

const cpuMs = () => {
  const { user, system } = process.threadCpuUsage()
  return (user + system) / 1000
}

/** Mean ns per call of each task, `iterations` calls each, in the order given. */
const tinybench = async (iterations: number, tasks: [string, () => unknown][], warmup = false) => {
  const { Bench } = await import('tinybench')
  const bench = new Bench({ iterations, time: 0, warmup, throws: true })
  for (const [name, task] of tasks) bench.add(name, task)
  await bench.run()
  const ns: Record<string, number> = {}
  for (const { name, result } of bench.tasks) {
    if (result.state !== 'completed') throw new Error(`tinybench: ${result.state}`)
    ns[name] = result.latency.mean * 1e6
  }
  return ns
}

const secretsOf = (n: number, field: (i: number) => string) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`s${i}`, field(i)]))

const MODES: Record<string, Mode> = {
  load: async ([file]) => {
    const [cpu, wall] = [cpuMs(), performance.now()]
    await import(pathToFileURL(file as string).href)
    return { wallMs: performance.now() - wall, cpuMs: cpuMs() - cpu }
  },
  warm: async ([file, bare, floor, invocations, batches], go) => {
    const handlers = await Promise.all(
      [file, bare, floor].map(
        async (path) => (await import(pathToFileURL(path as string).href)).handler as Handler,
      ),
    )
    const contextOf = () => ({
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      awsRequestId: 'warm',
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => 30_000,
    })
    const first = await (handlers[0] as Handler)({ verify: true }, contextOf())
    const expected = process.env.BENCH_EXPECT
    if (expected !== undefined && first?.digest !== expected) throw new Error('wrong secrets')
    await go()
    const ns: number[][] = [[], [], []]
    for (let batch = 0; batch < Number(batches); batch++) {
      const tasks = rotate([0, 1, 2], batch).map((i): [string, () => unknown] => [
        String(i),
        () => (handlers[i] as Handler)({}, contextOf()),
      ])
      const means = await tinybench(Number(invocations) / Number(batches), tasks, batch === 0)
      for (const i of [0, 1, 2]) ns[i]?.push(means[i] as number)
    }
    return { ns: ns[0], bare: ns[1], floor: ns[2] }
  },
  log: async ([mode, lines]) => {
    const { loadSecrets } = await import('../../src/index.ts')
    const fetchData = secretsOf(5, (i) => `SECRET_${i}`)
    const { s0 } = await loadSecrets({ fetchData, redactLogs: mode === 'guarded' })
    const line = (text: string) => text.padEnd(100, '.').slice(0, 100)
    const clean = line(
      'INFO request handled: GET /items/12345 status=200 duration=12.3ms user=u-789',
    )
    const leaky = line(`DEBUG calling upstream with token=${s0} attempt=1`)
    const ns = await tinybench(Number(lines), [
      ['clean', () => console.log(clean)],
      ['leaky', () => console.log(leaky)],
    ])
    return { cleanNs: ns.clean, leakyNs: ns.leaky }
  },
  burst: async ([mode, count, n, timeout], go) => {
    const { KMSClient } = await import('@aws-sdk/client-kms')
    const { loadSecrets } = await import('../../src/index.ts')
    let throttled = 0
    class CountingKMSClient extends KMSClient {
      constructor(config: KMSClientConfig) {
        super(config)
        const count = (error: Error) => {
          if (error.name === 'ThrottlingException') throttled++
          throw error
        }
        this.middlewareStack.add((next) => (args) => next(args).catch(count), {
          step: 'deserialize',
          priority: 'high',
        })
      }
    }
    const fetchData = secretsOf(Number(n), (i) =>
      mode === 'bundle' ? `BUNDLE#s${i}` : `SECRET_${i}`,
    )
    await go()
    const start = performance.now()
    const outcomes = await Promise.all(
      Array.from({ length: Number(count) }, (_, i) =>
        loadSecrets({
          fetchData,
          cacheKey: `burst-${i}`,
          AwsClient: CountingKMSClient,
          timeout: Number(timeout),
        }).then(
          () => ({ ms: performance.now() - start }),
          (error: { code?: string; name?: string }) => ({
            ms: performance.now() - start,
            code: error.code ?? error.name ?? 'UNKNOWN',
          }),
        ),
      ),
    )
    return { outcomes, throttled }
  },
}

// Started by phases.ts's runWorker only, with IPC: process.send exists.
const [mode = '', ...args] = process.argv.slice(2)
const send = process.send?.bind(process) as NonNullable<typeof process.send>
const go = () =>
  new Promise<void>((resolve) => {
    process.once('message', () => resolve())
    send({ type: 'ready' })
  })
const run = MODES[mode] as Mode
run(args, go)
  .then(
    (result) => send({ type: 'result', ...result }),
    (error: Error) => {
      send({ type: 'error', message: `${error.name}: ${error.message}` })
      process.exitCode = 1
    },
  )
  .finally(() => process.disconnect())
