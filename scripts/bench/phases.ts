// The measuring phases of `npm run bench`, one path for all: rounds of fresh child processes, one
// at a time, the variants in an order rotated every round so that background load hits all alike.

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdir, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { Writable } from 'node:stream'
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms'
import { build, type PluginBuild } from 'esbuild'
import { runLambda } from '../invoke.ts'
import { awsEnv, LOCAL_REGION } from '../local/aws-env.ts'
import { ricEntry } from '../local/ric.ts'
import { buildFunction, functionsOf, type LocalFunction, readTemplate } from '../template.ts'
import type { Options } from './run.ts'
import {
  type Built,
  CREDENTIALS,
  DECRYPT,
  FUNCTION_NAME,
  functionEnv,
  PATTERNS,
  ROOT,
  SIZES,
  type Stack,
  secretsEnv,
} from './setup.ts'
import { median, percentile, rotate } from './stats.ts'

export const LOAD_N = 5
export const WARM_N = 5
export const BURST_N = 20
export const LOG_SECRETS = 5
export const NO_PREFETCH = ', disablePrefetch'
export const DEFAULTS = ', default options'
export const TRACING = ['no tracing code', 'tracing off', 'tracing on']

/** Module load: what the targets compare, and ours without prefetch (the code alone). */
export const LOAD_VARIANTS = [
  ...['bare-kms', 'bare-middy', 'per-variable', 'bundle', 'per-variable-lite', 'esdk'],
  ...['per-variable', 'bundle', 'per-variable-lite'].map((pattern) => `${pattern}${NO_PREFETCH}`),
].map((label) => ({ label, pattern: label.replace(NO_PREFETCH, '') }))

const warm = (pattern: string, n = WARM_N, defaults = false) => {
  const label = `${pattern}${defaults ? DEFAULTS : ''}${n === WARM_N ? '' : `, N = ${n}`}`
  return { label, pattern, n, defaults }
}
/** Every built function at WARM_N; ours (both settings) and the peer at every N. */
export const WARM_VARIANTS = [
  ...[...PATTERNS, 'empty-middleware', 'ssm-like'].map((pattern) => warm(pattern)),
  warm('bundle', WARM_N, true),
  ...SIZES.flatMap((n) => [
    warm('per-variable', n, true),
    ...(n === WARM_N ? [] : [warm('per-variable', n), warm('ssm-like', n)]),
  ]),
]

export const progress = (text: string) => process.stderr.write(`[bench] ${text}\n`)

export interface Bench {
  options: Options
  stack: Stack
  built: Built
  /** An empty HOME: no AWS config files, as in Lambda. */
  home: string
  work: string
}

/** Aborted on SIGINT / SIGTERM: every child the bench started is killed. */
export const stopAll = new AbortController()

/** Runs worker.ts to its 'result' (onReady runs between its 'ready' and the parent's 'go'). */
export const runWorker = async (args: string[], env: NodeJS.ProcessEnv, onReady = () => {}) => {
  // stdout to /dev/null: a synchronous write, as the log phase wants.
  const child = spawn(process.execPath, [join(ROOT, 'scripts/bench/worker.ts'), ...args], {
    ...{ env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], timeout: 300_000 },
    ...{ signal: stopAll.signal, killSignal: 'SIGKILL' },
  })
  let message: Record<string, unknown> = {}
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000)
  })
  child.on('message', (received: typeof message) => {
    if (received.type !== 'ready') message = received
    else {
      onReady()
      child.send('go')
    }
  })
  const [code, signal] = await once(child, 'close').catch((error: Error) => [error.message])
  if (message.type === 'result') return message
  const why = `${message.message ?? ''}\nexit ${code ?? signal}\n${stderr.trim()}`
  throw new Error(`worker.ts ${args.join(' ')}: ${why}`)
}

/** `count` rounds of every variant, order rotated each round: per round, a result per label. */
const rounds = async <V extends { label: string }, R>(
  what: string,
  count: number,
  variants: V[],
  measure: (variant: V) => Promise<R>,
  show: (result: R) => number,
) => {
  const all: Record<string, R>[] = []
  for (let round = 0; round < count; round++) {
    const results: Record<string, R> = {}
    for (const variant of rotate(variants, round)) results[variant.label] = await measure(variant)
    all.push(results)
    const shown = Object.entries(results).map(([label, r]) => `${label} ${show(r).toFixed(0)}`)
    progress(`${what} ${round + 1}/${count}: ${shown.join(', ')}`)
  }
  return all
}

const loadOf = async (file: string, env: NodeJS.ProcessEnv) =>
  (await runWorker(['load', file], env)) as { wallMs: number; cpuMs: number }

const DISCARD = new Writable({ write: (_chunk, _encoding, done) => done() })

/** `file` under aws-lambda-ric behind the loopback Runtime API (as npm run invoke), invoked once. */
const coldStart = async (file: string, env: NodeJS.ProcessEnv) => {
  const [dir, handler] = [dirname(file), `${basename(file, '.mjs')}.handler`]
  const fn = { dir, handler, name: FUNCTION_NAME, memorySize: 1024, timeout: 60, env }
  const io = { log: () => {}, logStream: DISCARD, signal: stopAll.signal }
  const [first] = await runLambda(fn, [{ verify: true }], io)
  if (!first?.ok) throw new Error(`${basename(file)}: ${JSON.stringify(first?.value)}`)
  const { initMs, durationMs, maxRssKb: rssKb, value } = first
  return { initMs, firstMs: initMs + durationMs, rssKb, value }
}

export const coldStarts = ({ options, stack, built, home }: Bench) => {
  ricEntry(progress) // built once per machine, said here
  const variants = SIZES.flatMap((n) => PATTERNS.map((p) => ({ label: `${p}|${n}`, p, n })))
  return rounds(
    'cold starts (spawn → first response, ms), round',
    options.runs,
    variants,
    async ({ label, p, n }) => {
      const env = functionEnv(stack, home, p, n)
      stack.proxy.resetCounts()
      const { value, ...sample } = await coldStart(built[p]?.file as string, env)
      const decrypts = stack.proxy.counts()[DECRYPT] ?? 0
      // The bare functions answer no digest and expect none.
      if ((value as { digest?: string }).digest !== env.BENCH_EXPECT)
        throw new Error(`cold start ${label} decrypted wrong values`)
      if (env.BENCH_EXPECT && decrypts === 0)
        throw new Error(`cold start ${label}: no Decrypt reached the proxy`)
      return { ...sample, decrypts }
    },
    (r) => r.firstMs,
  )
}

const cpu = (r: { cpuMs: number }) => r.cpuMs

export const loadRounds = ({ options, stack, built, home }: Bench) =>
  rounds(
    'module load (CPU ms), round',
    options.loadRounds,
    LOAD_VARIANTS,
    ({ label, pattern }) =>
      loadOf(built[pattern]?.file as string, {
        ...functionEnv(stack, home, pattern, LOAD_N),
        ...(label !== pattern && { BENCH_NO_PREFETCH: 'true' }),
      }),
    cpu,
  )

/** KMS requests counted from the worker's 'go', after its checked first invoke. */
export const warmRounds = ({ options, stack, built, home }: Bench) =>
  rounds(
    'warm (ns per invoke over bare Middy), round',
    options.warmRounds,
    WARM_VARIANTS,
    async ({ pattern, n, defaults }) => {
      const env = functionEnv(stack, home, pattern, n)
      // Values only in request.internal: the handler cannot show them (cold starts check it).
      if (defaults) Object.assign(env, { BENCH_SET_TO_CONTEXT: 'false', BENCH_EXPECT: undefined })
      const files = [pattern, 'bare-middy', 'empty-middleware'].map((p) => built[p]?.file as string)
      const args = ['warm', ...files, String(options.warmInvocations), '20']
      const m = await runWorker(args, env, () => stack.proxy.resetCounts())
      const [ns, bare, floor] = [m.ns, m.bare, m.floor] as number[][]
      const minus = (b: number[] = []) => median((ns ?? []).map((v, i) => v - (b[i] as number)))
      return {
        ns: median(ns ?? []),
        overBare: minus(bare),
        overFloor: minus(floor),
        kms: stack.proxy.total(),
      }
    },
    (r) => r.overBare,
  )

export const logRounds = ({ options, stack, home }: Bench) =>
  rounds(
    'log guard (ns per clean line), round',
    options.logRounds,
    [{ label: 'plain' }, { label: 'guarded' }],
    async ({ label }) => {
      const args = ['log', label, String(options.logLines)]
      const m = await runWorker(args, functionEnv(stack, home, 'per-variable', LOG_SECRETS))
      return m as { cleanNs: number; leakyNs: number }
    },
    (r) => r.cleanNs,
  )

/** Decrypt requests per second the local stack serves, 300 at once through the proxy. */
export const localCapacity = async ({ stack }: Bench) => {
  const endpoint = stack.proxy.endpoint
  const client = new KMSClient({ endpoint, region: LOCAL_REGION, credentials: CREDENTIALS })
  const command = new DecryptCommand({
    CiphertextBlob: Buffer.from(stack.blobs[0] as string, 'base64'),
    EncryptionContext: { LambdaFunctionName: FUNCTION_NAME },
  })
  const burst = (count: number) =>
    Promise.all(Array.from({ length: count }, () => client.send(command)))
  try {
    await burst(20)
    const start = performance.now()
    await burst(300)
    return 300_000 / (performance.now() - start)
  } finally {
    client.destroy()
  }
}

/** Both modes once, the proxy throttling Decrypt above the rate from the worker's 'go'. */
export const bursts = async ({ options, stack, home }: Bench) => {
  const { proxy } = stack
  const env = {
    ...functionEnv(stack, home, 'per-variable', BURST_N),
    ...secretsEnv(stack, 'bundle', BURST_N),
  }
  const [results] = await rounds(
    'burst (failed cold starts)',
    1,
    [{ label: 'bundle' }, { label: 'per-variable' }],
    async ({ label: mode }) => {
      // Requests received since 'go', sampled every 50 ms.
      const arrivals: { at: number; total: number }[] = []
      let sampler: NodeJS.Timeout | undefined
      const onGo = () => {
        proxy.resetCounts()
        proxy.throttleAbove({ ratePerSecond: options.burstRate, match: DECRYPT })
        const go = performance.now()
        const sample = () => arrivals.push({ at: performance.now() - go, total: proxy.total() })
        sample()
        sampler = setInterval(sample, 50)
      }
      const { burstCount, burstTimeoutMs } = options
      const args = ['burst', mode, burstCount, BURST_N, burstTimeoutMs].map(String)
      const m = await runWorker(args, env, onGo).finally(() => {
        clearInterval(sampler)
        proxy.throttleAbove(null)
      })
      const outcomes = m.outcomes as { ms: number; code?: string }[]
      const failuresByCode: Record<string, number> = {}
      for (const { code } of outcomes)
        if (code) failuresByCode[code] = (failuresByCode[code] ?? 0) + 1
      const all = outcomes.map((o) => o.ms)
      let from = 0
      const perSecond = arrivals.map((a) => {
        while ((arrivals[from]?.at ?? 0) < a.at - 1000) from++
        return a.total - (arrivals[from]?.total ?? 0)
      })
      return {
        mode,
        count: outcomes.length,
        failed: outcomes.filter((o) => o.code).length,
        failuresByCode,
        slowestMs: Math.max(...all),
        medianMs: median(all),
        p95Ms: percentile(all, 95),
        decryptRequests: proxy.counts()[DECRYPT] ?? 0,
        throttled: m.throttled as number,
        firstRequestMs: arrivals.find((a) => a.total > 0)?.at,
        peakPerSecond: Math.max(0, ...perSecond),
      }
    },
    (r) => r.failed,
  )
  return Object.values(results ?? {})
}

/** JavaScript bytes a build wrote (the entry and its chunks). */
const bytesOf = async (dir: string) => {
  const files = (await readdir(dir)).filter((name) => /\.m?js$/.test(name))
  const sizes = await Promise.all(files.map(async (name) => (await stat(join(dir, name))).size))
  return sizes.reduce((sum, size) => sum + size, 0)
}

// functions/shared/tracing.ts as a no-op: secure-items as it was before tracing.
const NO_TRACING = `export const tracingWanted = () => false
export const traceDecryptRound = () => {}
export const tracingMiddleware = () => []
export const traceAwsClient = (client) => client
export const traceCall = (_name, call) => call()`

/**
 * X-Ray tracing's module-load cost: secure-items built as the template builds it, with tracing on
 * (as in Lambda), off (POWERTOOLS_TRACE_ENABLED=false: the SDK's chunk is never read), and once
 * more with its tracing module stubbed out.
 */
export const tracingCost = async ({ options, work }: Bench) => {
  const fn = functionsOf(readTemplate(join(ROOT, 'template.yaml'))).find(
    (f) => f.logicalId === 'SecureItemsFunction',
  ) as LocalFunction
  const traced = await buildFunction(fn, ROOT, join(work, 'traced'))
  const noTracing = (b: PluginBuild) => {
    b.onResolve({ filter: /\/shared\/tracing\.ts$/ }, () => ({ path: 'x', namespace: 'stub' }))
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: NO_TRACING }))
  }
  const plugins = [{ name: 'no-tracing', setup: noTracing }]
  await build({
    ...traced.options,
    absWorkingDir: ROOT,
    outdir: join(work, 'plain'),
    plugins,
    logLevel: 'silent',
  })
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    // Import only: the prefetch it starts goes nowhere and dies with the process.
    ...awsEnv('http://127.0.0.1:9'),
    AWS_LAMBDA_FUNCTION_NAME: 'bench-secure-items',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    TABLE_NAME: 'bench-items',
    DATA_KEY: Buffer.alloc(96, 1).toString('base64'),
    POWERTOOLS_METRICS_NAMESPACE: 'Bench',
  }
  const [none, off, on] = TRACING as [string, string, string]
  const variants = [
    { label: none, file: join(work, 'plain', 'handler.mjs'), env },
    { label: off, file: traced.handlerFile, env: { ...env, POWERTOOLS_TRACE_ENABLED: 'false' } },
    { label: on, file: traced.handlerFile, env },
  ]
  const load = (v: (typeof variants)[number]) => loadOf(v.file, v.env)
  const all = await rounds('tracing (CPU ms), round', options.loadRounds, variants, load, cpu)
  const of = (label: string, key: 'wallMs' | 'cpuMs') =>
    median(all.map((r) => r[label]?.[key] as number))
  return {
    rounds: all.length,
    bytes: {
      withTracing: await bytesOf(traced.outdir),
      without: await bytesOf(join(work, 'plain')),
    },
    loadMs: Object.fromEntries(
      TRACING.map((l) => [l, { wall: of(l, 'wallMs'), cpu: of(l, 'cpuMs') }]),
    ),
  }
}
