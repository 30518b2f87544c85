// Bench phase: what X-Ray tracing (functions/shared/tracing.ts, Powertools Tracer + the X-Ray
// SDK) costs a sample function at cold start. secure-items is built exactly as the template
// builds it (esbuild, minified ESM), and once more with the tracing module replaced by a
// no-op stub (the function as it was before tracing). Module load (import only, in a fresh
// process each, variants rotated) is measured with tracing on (in Lambda), tracing off
// (POWERTOOLS_TRACE_ENABLED=false: the SDK's chunk is never read) and without tracing code.
// Run alone: node scripts/bench/tracing.ts [rounds]; npm run bench runs it as a phase.

import { execFile } from 'node:child_process'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { build, type Plugin } from 'esbuild'
import { buildFunction, esbuildOptionsOf, functionsOf, readTemplate } from '../template.ts'
import { ROOT } from './build.ts'
import { median } from './stats.ts'
import { table } from './table.ts'

const run = promisify(execFile)

export const TRACING_VARIANTS = ['no tracing code', 'tracing off', 'tracing on'] as const
export type TracingVariant = (typeof TRACING_VARIANTS)[number]

export interface TracingCost {
  rounds: number
  /** Bundle bytes with and without the tracing code. */
  bytes: { withTracing: number; without: number }
  /** Median module load (ms, wall and main-thread CPU) per variant. */
  loadMs: Record<TracingVariant, { wall: number; cpu: number }>
}

const stub: Plugin = {
  name: 'tracing-stub',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /\/shared\/tracing\.ts$/ }, () => ({
      path: 'tracing-stub',
      namespace: 'stub',
    }))
    pluginBuild.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents: `export const tracingWanted = () => false
export const traceDecryptRound = () => {}
export const tracingMiddleware = () => []
export const traceAwsClient = (client) => client
export const traceCall = (_name, call) => call()`,
      loader: 'js',
    }))
  },
}

const loadOnce = async (file: string, env: NodeJS.ProcessEnv) => {
  const { stdout } = await run(
    process.execPath,
    [join(ROOT, 'scripts/bench/cold-start.ts'), file, '--load-only'],
    { env, cwd: ROOT },
  )
  return JSON.parse(stdout) as { loadMs: number; loadCpuMs: number }
}

/** The JavaScript a build wrote (the entry and, with Splitting, its chunks), maps left out. */
const bytesOf = async (dir: string): Promise<number> => {
  const files = (await readdir(dir)).filter((name) => /\.m?js$/.test(name))
  const sizes = await Promise.all(files.map(async (name) => (await stat(join(dir, name))).size))
  return sizes.reduce((sum, size) => sum + size, 0)
}

export const tracingCost = async (workDir: string, rounds: number): Promise<TracingCost> => {
  const fn = functionsOf(readTemplate(join(ROOT, 'template.yaml'))).find(
    (f) => f.logicalId === 'SecureItemsFunction',
  )
  if (fn === undefined) throw new Error('template.yaml has no SecureItemsFunction')
  const traced = await buildFunction(fn, ROOT, join(workDir, 'traced'))
  const plainFile = join(workDir, 'plain', 'handler.mjs')
  const options = esbuildOptionsOf(fn)
  // Built as the template builds (Splitting included), with tracing.ts stubbed out.
  await build({
    ...(options as Parameters<typeof build>[0]),
    entryPoints: [join(ROOT, 'functions/secure-items/handler.ts')],
    outbase: undefined,
    outdir: join(workDir, 'plain'),
    absWorkingDir: ROOT,
    plugins: [stub],
    logLevel: 'silent',
  })
  const base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    // Import only: the prefetch it starts goes nowhere and dies with the process.
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_LAMBDA_FUNCTION_NAME: 'bench-secure-items',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    TABLE_NAME: 'bench-items',
    DATA_KEY: Buffer.alloc(96, 1).toString('base64'),
    POWERTOOLS_METRICS_NAMESPACE: 'Bench',
  }
  const variants: Record<TracingVariant, { file: string; env: NodeJS.ProcessEnv }> = {
    'no tracing code': { file: plainFile, env: base },
    'tracing off': {
      file: traced.handlerFile,
      env: { ...base, POWERTOOLS_TRACE_ENABLED: 'false' },
    },
    'tracing on': { file: traced.handlerFile, env: base },
  }
  const samples = new Map<TracingVariant, Array<{ loadMs: number; loadCpuMs: number }>>(
    TRACING_VARIANTS.map((v) => [v, []]),
  )
  for (let round = 0; round < rounds; round++) {
    // Rotated, so machine noise spreads over every variant alike.
    for (let i = 0; i < TRACING_VARIANTS.length; i++) {
      const variant = TRACING_VARIANTS[(round + i) % TRACING_VARIANTS.length] as TracingVariant
      const { file, env } = variants[variant]
      samples.get(variant)?.push(await loadOnce(file, env))
    }
  }
  const loadMs = Object.fromEntries(
    TRACING_VARIANTS.map((variant) => {
      const list = samples.get(variant) ?? []
      return [
        variant,
        { wall: median(list.map((s) => s.loadMs)), cpu: median(list.map((s) => s.loadCpuMs)) },
      ]
    }),
  ) as TracingCost['loadMs']
  return {
    rounds,
    bytes: {
      withTracing: await bytesOf(traced.outdir),
      without: await bytesOf(join(workDir, 'plain')),
    },
    loadMs,
  }
}

/** The phase's lines for the report (markdown). */
export const tracingTable = (cost: TracingCost): string => {
  const none = cost.loadMs['no tracing code']
  const rows = TRACING_VARIANTS.map((variant) => {
    const { wall, cpu } = cost.loadMs[variant]
    return [variant, wall.toFixed(1), cpu.toFixed(1), `${(wall / none.wall).toFixed(2)}x`]
  })
  const kb = (bytes: number) => (bytes / 1024).toFixed(0)
  return [
    `secure-items bundle: ${kb(cost.bytes.without)} KB without tracing code, ${kb(cost.bytes.withTracing)} KB with it; module load, median of ${cost.rounds} fresh processes:`,
    '',
    table(['variant', 'load ms (wall)', 'load ms (CPU)', 'vs no tracing code'], rows),
  ].join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const work = await mkdtemp(join(tmpdir(), 'bench-tracing-'))
  try {
    const cost = await tracingCost(work, Number(process.argv[2] ?? 15))
    process.stdout.write(`${tracingTable(cost)}\n`)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
