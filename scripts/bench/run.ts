// `npm run bench`: the patterns side by side, in one run, against moto behind the
// fault proxy with KMS latency injected. See --help. Progress goes to stderr; the
// report to docs/BENCHMARKS.md and docs/benchmarks-cold-start.svg.

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { BUILT, type BuiltFunction, buildFunctions, PATTERNS, ROOT } from './build.ts'
import {
  type Bench,
  BURST_N,
  bursts,
  coldStarts,
  LOAD_N,
  LOG_SECRETS,
  loadRounds,
  localCapacity,
  logRounds,
  progress,
  SIZES,
  secretsEnv,
  WARM_N,
  WARM_SIZES,
  warmRounds,
} from './phases.ts'
import { killChildren } from './proc.ts'
import { renderMarkdown, renderSvg } from './report.ts'
import { cellKey, type Machine, type Results } from './results.ts'
import { RIC_N, RIC_PATTERNS, ricRounds } from './ric.ts'
import { encryptFixtures, makeSecrets, type Stack, startStack } from './stack.ts'
import { tracingCost } from './tracing.ts'

const HELP = `npm run bench [-- options]

Benchmarks decrypting N KMS-encrypted secrets at cold start, side by side, in one run:
naive (the Lambda console snippet, one variable at a time), per-variable (kmsSecrets,
one env var per secret), bundle (kmsSecrets, one kse1 bundle envelope), esdk (the AWS
Encryption SDK decrypting the same bundle), and the baselines bare-kms / bare-middy
(and, for warm invocations, empty-middleware: Middy with one empty middleware).
Runs against moto behind the fault proxy on 127.0.0.1, with latency on every KMS call.
Writes docs/BENCHMARKS.md and docs/benchmarks-cold-start.svg. Takes ~10 minutes.

Options:
  --runs <n>          cold starts per cell (pattern x N), default 7 (--quick: 2)
  --latency-ms <ms>   latency injected on every KMS request, default 10
  --quick             short smoke pass (< 1 min); writes to a temp dir unless --out
  --out <dir>         where to write BENCHMARKS.md and the SVG, default docs/
  --burst <n>         concurrent cold starts in the at-scale burst, default 500 (--quick: 100)
  --burst-rate <rps>  Decrypt requests per second the proxy admits in the burst, default 1000
  --only <phases>     only these phases, comma-separated: cold, load, warm, log, burst, tracing,
                      ric (cold starts under aws-lambda-ric)
                      (a partial report; written to a temp dir unless --out)
  --json <file>       also write the raw measurements as JSON
  --from-json <file>  measure nothing: write the report again from such a file
  -h, --help          this text`

class UsageError extends Error {}

const PHASES = ['cold', 'load', 'warm', 'log', 'burst', 'tracing', 'ric'] as const
type Phase = (typeof PHASES)[number]

const positive = (name: string, text: string | undefined, fallback: number): number => {
  if (text === undefined) return fallback
  const value = Number(text)
  const zeroOk = name === 'latency-ms'
  if (!Number.isFinite(value) || value < 0 || (!zeroOk && value < 1)) {
    throw new UsageError(
      `--${name} wants a ${zeroOk ? 'non-negative' : 'positive'} number, got "${text}"`,
    )
  }
  return value
}

const parseOptions = (argv: string[]) => {
  const { values } = parseArgs({
    args: argv,
    options: {
      help: { type: 'boolean', short: 'h' },
      quick: { type: 'boolean' },
      runs: { type: 'string' },
      'latency-ms': { type: 'string' },
      out: { type: 'string' },
      burst: { type: 'string' },
      'burst-rate': { type: 'string' },
      json: { type: 'string' },
      'from-json': { type: 'string' },
      only: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  })
  const quick = values.quick ?? false
  const only = values.only?.split(',').map((phase) => phase.trim())
  const unknown = only?.filter((phase) => !(PHASES as readonly string[]).includes(phase))
  if (unknown?.length) {
    throw new UsageError(`--only takes ${PHASES.join(', ')}; got "${unknown.join(', ')}"`)
  }
  return {
    phases: new Set<Phase>((only as Phase[] | undefined) ?? PHASES),
    help: values.help ?? false,
    quick,
    runs: Math.round(positive('runs', values.runs, quick ? 2 : 7)),
    latencyMs: positive('latency-ms', values['latency-ms'], 10),
    out: values.out,
    json: values.json,
    fromJson: values['from-json'],
    loadRounds: quick ? 2 : 40,
    warmInvocations: quick ? 10_000 : 100_000,
    warmRounds: quick ? 1 : 5,
    logLines: quick ? 20_000 : 100_000,
    logRounds: quick ? 1 : 5,
    burstCount: Math.round(positive('burst', values.burst, quick ? 100 : 500)),
    burstRate: Math.round(positive('burst-rate', values['burst-rate'], 1000)),
    // One process prepares every simulated cold start's signed requests in turn (500
    // sandboxes would do it in parallel): with the default 5 s deadline they would all
    // time out before sending. The burst measures throttling, so the deadline is raised.
    burstTimeoutMs: 60_000,
  }
}

type Options = ReturnType<typeof parseOptions>

const shownArgs = (argv: readonly string[]): string[] =>
  argv.filter((arg, i) => !arg.startsWith('--json') && argv[i - 1] !== '--json')

const machineLine = async (): Promise<Machine> => {
  let cpu = cpus()[0]?.model ?? 'unknown CPU'
  try {
    const info = await readFile('/proc/cpuinfo', 'utf8')
    cpu = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpu
  } catch {
    // not Linux: os.cpus() it is
  }
  return {
    cpu,
    cores: availableParallelism(),
    node: process.version,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    loadAverage: loadavg()
      .map((load) => load.toFixed(2))
      .join(' '),
  }
}

const writeReport = async (results: Results, outDir: string) => {
  await mkdir(outDir, { recursive: true })
  const mdFile = join(outDir, 'BENCHMARKS.md')
  const svgFile = join(outDir, 'benchmarks-cold-start.svg')
  await writeFile(mdFile, renderMarkdown(results))
  await writeFile(svgFile, renderSvg(results))
  const shown = (file: string) => relative(process.cwd(), file) || file
  progress(
    `wrote ${shown(mdFile)} and ${shown(svgFile)} (the run took ${results.durationS.toFixed(0)} s)`,
  )
}

/** The report again from the raw measurements of an earlier run (--json). */
const rerender = async (file: string, outDir: string): Promise<number> => {
  const raw = JSON.parse(await readFile(file, 'utf8')) as Omit<Results, 'cold' | 'envBytes'> & {
    cold: Record<string, Results['cold'] extends Map<string, infer V> ? V : never>
    envBytes: Record<string, number>
  }
  await writeReport(
    {
      ...raw,
      cold: new Map(Object.entries(raw.cold)),
      envBytes: new Map(Object.entries(raw.envBytes)),
    },
    outDir,
  )
  return 0
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
  const major = Number(process.versions.node.split('.')[0])
  if (major !== 24)
    progress(
      `warning: Node ${process.version}; the numbers are meant for Node 24 (the Lambda runtime)`,
    )

  const outDir = resolve(
    options.out ??
      (options.quick || options.phases.size < PHASES.length
        ? join(tmpdir(), 'middy-kms-secrets-bench')
        : join(ROOT, 'docs')),
  )
  // Said first, not only in --help: the default report replaces tracked files.
  progress(
    `the report goes to ${relative(process.cwd(), outDir) || '.'}/BENCHMARKS.md (and its chart); --out DIR writes elsewhere`,
  )
  if (options.fromJson) return rerender(options.fromJson, outDir)
  const started = performance.now()
  const machine = await machineLine()
  const work = await mkdtemp(join(tmpdir(), 'kms-bench-'))
  const home = join(work, 'home')
  await mkdir(home)
  let stack: Stack | undefined
  let stopping = false
  const cleanup = async () => {
    killChildren()
    await stack?.stop().catch(() => {})
    stack = undefined
    await rm(work, { recursive: true, force: true }).catch(() => {})
  }
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    progress(`${signal}: stopping`)
    cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  try {
    progress(
      `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverage}`,
    )
    progress(`bundling ${BUILT.length} functions (esbuild, minified ESM, node24)`)
    const functions = await buildFunctions(join(work, 'functions'))
    progress('starting moto and the fault proxy on 127.0.0.1')
    stack = await startStack()
    const secrets = makeSecrets(Math.max(...SIZES))
    progress(
      `encrypting ${secrets.length} secrets: raw KMS blobs, kse1 bundles and ESDK messages for N = ${SIZES.join(', ')}`,
    )
    const fixtures = await encryptFixtures(stack, secrets, SIZES)
    stack.proxy.setLatency(options.latencyMs)
    const bench: Bench = { options, stack, fixtures, secrets, functions, home }

    const envBytes = new Map<string, number>()
    for (const pattern of PATTERNS) {
      for (const n of SIZES) {
        const vars = Object.entries(secretsEnv(bench, pattern, n)).filter(
          ([name]) => name !== 'BENCH_KEY_ARN',
        )
        envBytes.set(
          cellKey(pattern, n),
          vars.reduce((sum, [name, value]) => sum + name.length + value.length, 0),
        )
      }
    }

    progress(
      `cold starts: ${options.runs} per cell, ${PATTERNS.length} patterns x N = ${SIZES.join(', ')}, ${options.latencyMs} ms KMS latency`,
    )
    const { phases } = options
    const cold = phases.has('cold') ? await coldStarts(bench) : new Map()
    if (phases.has('load')) {
      progress(
        `module load: ${options.loadRounds} rounds of ${LOAD_N}-secret functions, import only, patterns rotated`,
      )
    }
    const load = phases.has('load') ? await loadRounds(bench) : []
    if (phases.has('warm')) {
      progress(
        `warm: ${options.warmInvocations} invocations per process, N=${WARM_N} (and ${WARM_SIZES.join(', ')} for per-variable and the ssm-like peer), ${options.warmRounds} round(s)`,
      )
    }
    const warm = phases.has('warm') ? await warmRounds(bench) : []
    if (phases.has('log')) {
      progress(
        `redactLogs guard: ${options.logLines} console.log lines per process, ${options.logRounds} round(s)`,
      )
    }
    const log = phases.has('log') ? await logRounds(bench) : []
    const capacityPerSecond = phases.has('burst') ? await localCapacity(bench) : Number.NaN
    if (phases.has('burst')) {
      progress(`the local stack serves ~${capacityPerSecond.toFixed(0)} Decrypt requests/s`)
    }
    const burst = phases.has('burst') ? await bursts(bench) : []
    if (phases.has('tracing')) {
      progress(
        `tracing: ${options.loadRounds} rounds of secure-items module load (on, off, no code)`,
      )
    }
    const tracing = phases.has('tracing')
      ? await tracingCost(join(work, 'tracing'), options.loadRounds)
      : undefined

    if (phases.has('ric')) {
      progress(
        `under aws-lambda-ric: ${options.runs} rounds of ${RIC_PATTERNS.join(', ')} (N = ${RIC_N})`,
      )
    }
    const ric = phases.has('ric') ? await ricRounds(bench) : undefined

    // The command as it bears on the numbers (--json only adds a file).
    const extra = shownArgs(process.argv.slice(2)).join(' ')
    const results: Results = {
      machine,
      command: `npm run bench${extra ? ` -- ${extra}` : ''}`,
      quick: options.quick,
      latencyMs: options.latencyMs,
      runs: options.runs,
      sizes: SIZES,
      cold,
      bytes: Object.fromEntries(
        BUILT.map((pattern) => {
          const { bytes, bytesBy } = functions.get(pattern) as BuiltFunction
          return [pattern, { bytes, bytesBy }]
        }),
      ) as Results['bytes'],
      envBytes,
      load: { n: LOAD_N, rounds: load },
      warm: { n: WARM_N, invocations: options.warmInvocations, rounds: warm },
      log: { lines: options.logLines, rounds: log, secrets: LOG_SECRETS },
      burst: {
        ratePerSecond: options.burstRate,
        capacityPerSecond,
        timeoutMs: options.burstTimeoutMs,
        n: BURST_N,
        results: burst,
      },
      tracing,
      ric,
      durationS: (performance.now() - started) / 1000,
    }
    if (options.json) {
      await writeFile(
        options.json,
        `${JSON.stringify({ ...results, cold: Object.fromEntries(cold), envBytes: Object.fromEntries(envBytes) }, null, 2)}\n`,
      )
    }
    await writeReport(results, outDir)
    return 0
  } catch (error) {
    if (!stopping) progress(`failed: ${(error as Error).stack ?? error}`)
    return 1
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    if (!stopping) await cleanup()
  }
}

main().then((code) => {
  process.exitCode = code
})
