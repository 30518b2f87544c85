// `npm run bench`: the patterns side by side, in one run, against moto behind the fault proxy
// with KMS latency injected. See --help. Progress goes to stderr, the report to docs/BENCHMARKS.md.

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import * as phases from './phases.ts'
import { renderMarkdown } from './report.ts'
import { BUILT, buildFunctions, PATTERNS, ROOT, SIZES, secretsEnv, startStack } from './setup.ts'

const PHASES = ['cold', 'load', 'warm', 'log', 'burst', 'tracing']

const HELP = `npm run bench [-- options]

Benchmarks decrypting N KMS-encrypted secrets at cold start, side by side, in one run:
naive (the Lambda console snippet, one variable at a time), per-variable (kmsSecrets, one env
var per secret), bundle (kmsSecrets, one kse1 bundle envelope), the same two on /lite, esdk
(the AWS Encryption SDK decrypting the same bundle), and the baselines bare-kms / bare-middy.
Every cold start runs under aws-lambda-ric behind a loopback Runtime API, against moto behind
the fault proxy on 127.0.0.1, with latency on every KMS call. Writes docs/BENCHMARKS.md.
Takes ~10 minutes.

Options:
  --runs <n>          cold starts per cell (pattern x N), default 7 (--quick: 2)
  --latency-ms <ms>   latency injected on every KMS request, default 10
  --quick             short smoke pass (~1 min); writes to a temp dir unless --out
  --out <dir>         where to write BENCHMARKS.md, default docs/
  --burst <n>         concurrent cold starts in the at-scale burst, default 500 (--quick: 100)
  --burst-rate <rps>  Decrypt requests per second the proxy admits in the burst, default 1000
  --only <phases>     only these phases, comma-separated: ${PHASES.join(', ')}
                      (a partial report; written to a temp dir unless --out)
  --json <file>       also write the raw measurements as JSON
  --from-json <file>  measure nothing: write the report again from such a file
  -h, --help          this text`

class UsageError extends Error {}

const parseOptions = (args: string[]) => {
  const string = { type: 'string' } as const
  const { values } = parseArgs({
    args,
    options: {
      help: { type: 'boolean', short: 'h' },
      quick: { type: 'boolean' },
      ...{ runs: string, 'latency-ms': string, out: string, burst: string, 'burst-rate': string },
      ...{ json: string, 'from-json': string, only: string },
    },
  })
  const quick = values.quick ?? false
  const number = (name: keyof typeof values, fallback: number, least = 1) => {
    const text = values[name] as string | undefined
    const value = text === undefined ? fallback : Number(text)
    if (!(value >= least))
      throw new UsageError(`--${name} wants a number ≥ ${least}, got "${text}"`)
    return Math.round(value)
  }
  const only = values.only?.split(',').map((phase) => phase.trim())
  const unknown = only?.filter((phase) => !PHASES.includes(phase)) ?? []
  if (unknown.length)
    throw new UsageError(`--only takes ${PHASES.join(', ')}; got "${unknown.join(', ')}"`)
  return {
    ...values,
    phases: new Set(only ?? PHASES),
    quick,
    runs: number('runs', quick ? 2 : 7),
    latencyMs: number('latency-ms', 10, 0),
    loadRounds: quick ? 2 : 40,
    warmInvocations: quick ? 10_000 : 100_000,
    warmRounds: quick ? 1 : 5,
    logLines: quick ? 20_000 : 100_000,
    logRounds: quick ? 1 : 5,
    burstCount: number('burst', quick ? 100 : 500),
    burstRate: number('burst-rate', 1000),
    // One process signs every simulated cold start's requests in turn (500 sandboxes would do it
    // in parallel): with the default 5 s deadline they would all time out before sending.
    burstTimeoutMs: 60_000,
  }
}

export type Options = ReturnType<typeof parseOptions>
export type Results = Awaited<ReturnType<typeof measure>>

/** Every phase asked for, in turn, against a fresh stack (`onStack` lets the caller stop it). */
const measure = async (
  options: Options,
  work: string,
  onStack: (stop: () => Promise<void>) => void,
) => {
  const started = performance.now()
  const machine = {
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: availableParallelism(),
    node: process.version,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    loadAverage: loadavg()
      .map((load) => load.toFixed(2))
      .join(' '),
  }
  phases.progress(
    `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverage}`,
  )
  phases.progress(`bundling ${BUILT.length} functions (esbuild, minified ESM, node24)`)
  const built = await buildFunctions(join(work, 'functions'))
  phases.progress('starting moto and the fault proxy on 127.0.0.1; encrypting the secrets')
  const stack = await startStack(Math.max(...SIZES))
  onStack(stack.stop)
  stack.proxy.setLatency(options.latencyMs)
  const home = join(work, 'home')
  await mkdir(home)
  const bench = { options, stack, built, home, work }
  const has = (phase: string) => options.phases.has(phase)
  const cold = has('cold') ? await phases.coldStarts(bench) : []
  const load = has('load') ? await phases.loadRounds(bench) : []
  const warm = has('warm') ? await phases.warmRounds(bench) : []
  const log = has('log') ? await phases.logRounds(bench) : []
  const capacityPerSecond = has('burst') ? await phases.localCapacity(bench) : Number.NaN
  const burst = has('burst') ? await phases.bursts(bench) : []
  const tracing = has('tracing') ? await phases.tracingCost(bench) : undefined
  // The command as it bears on the numbers (--json only adds a file).
  const argv = process.argv
    .slice(2)
    .filter((arg, i, all) => !arg.startsWith('--json') && all[i - 1] !== '--json')
  const envBytes = PATTERNS.flatMap((p) =>
    SIZES.map((n) => {
      const vars = Object.entries(secretsEnv(stack, p, n))
      return [`${p}|${n}`, vars.reduce((sum, [name, value]) => sum + name.length + value.length, 0)]
    }),
  )
  return {
    machine,
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    quick: options.quick,
    latencyMs: options.latencyMs,
    runs: options.runs,
    sizes: SIZES,
    cold,
    bytes: Object.fromEntries(
      Object.entries(built).map(([p, { bytes, bytesBy }]) => [p, { bytes, bytesBy }]),
    ),
    envBytes: Object.fromEntries(envBytes) as Record<string, number>,
    load: { n: phases.LOAD_N, rounds: load },
    warm: { invocations: options.warmInvocations, rounds: warm },
    log: { lines: options.logLines, secrets: phases.LOG_SECRETS, rounds: log },
    burst: {
      ratePerSecond: options.burstRate,
      capacityPerSecond,
      timeoutMs: options.burstTimeoutMs,
      n: phases.BURST_N,
      results: burst,
    },
    tracing,
    durationS: (performance.now() - started) / 1000,
  }
}

const main = async (): Promise<number> => {
  let options: Options
  try {
    options = parseOptions(process.argv.slice(2))
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${HELP}\n`)
    return 2
  }
  if (options.help) {
    process.stdout.write(`${HELP}\n`)
    return 0
  }
  const partial = options.quick || options.phases.size < PHASES.length
  const outDir = resolve(
    options.out ?? (partial ? join(tmpdir(), 'middy-kms-secrets-bench') : join(ROOT, 'docs')),
  )
  const mdFile = join(outDir, 'BENCHMARKS.md')
  const shown = relative(process.cwd(), mdFile)
  // Said first, not only in --help: the default report replaces a tracked file.
  phases.progress(`the report goes to ${shown}; --out DIR writes elsewhere`)
  const write = async (results: Results) => {
    await mkdir(outDir, { recursive: true })
    await writeFile(mdFile, renderMarkdown(results))
    phases.progress(`wrote ${shown} (the run took ${results.durationS.toFixed(0)} s)`)
    return 0
  }
  if (options['from-json']) return write(JSON.parse(await readFile(options['from-json'], 'utf8')))
  const work = await mkdtemp(join(tmpdir(), 'kms-bench-'))
  let stop = async () => {}
  const cleanup = async () => {
    phases.stopAll.abort()
    await stop().catch(() => {})
    await rm(work, { recursive: true, force: true }).catch(() => {})
  }
  const onSignal = (signal: NodeJS.Signals) => {
    phases.progress(`${signal}: stopping`)
    cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
  }
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal)
  try {
    const results = await measure(options, work, (stack) => {
      stop = stack
    })
    if (options.json) await writeFile(options.json, `${JSON.stringify(results, null, 2)}\n`)
    return await write(results)
  } catch (error) {
    phases.progress(`failed: ${(error as Error).stack ?? error}`)
    return 1
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal)
    await cleanup()
  }
}

process.exitCode = await main()
