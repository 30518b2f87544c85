// Bench phase: what X-Ray tracing (functions/shared/tracing.ts, Powertools Tracer + the X-Ray
// SDK) costs a sample function at cold start. secure-items is built exactly as the template
// builds it (esbuild, minified ESM), and once more with the tracing module replaced by a no-op
// stub (the function as it was before tracing). Module load (load.ts, a fresh process each,
// variants rotated) with tracing on (in Lambda), off (POWERTOOLS_TRACE_ENABLED=false: the
// SDK's chunk is never read) and without tracing code.
// Run alone: node scripts/bench/tracing.ts [rounds]; npm run bench runs it as a phase.

import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build, type Plugin } from 'esbuild'
import { buildFunction, esbuildOptionsOf, functionsOf, readTemplate } from '../template.ts'
import { ROOT } from './build.ts'
import { progress } from './phases.ts'
import { runWorker } from './proc.ts'
import { tracingTable } from './report.ts'
import { median, rotate } from './stats.ts'

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
  // Built as the template builds (Splitting included), with tracing.ts stubbed out.
  await build({
    ...(esbuildOptionsOf(fn) as Parameters<typeof build>[0]),
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
  const variants: Record<TracingVariant, [string, NodeJS.ProcessEnv]> = {
    'no tracing code': [join(workDir, 'plain', 'handler.mjs'), base],
    'tracing off': [traced.handlerFile, { ...base, POWERTOOLS_TRACE_ENABLED: 'false' }],
    'tracing on': [traced.handlerFile, base],
  }
  progress(`tracing: ${rounds} rounds of secure-items module load (no tracing code, off, on)`)
  const samples = new Map<TracingVariant, { wallMs: number; cpuMs: number }[]>(
    TRACING_VARIANTS.map((v) => [v, []]),
  )
  for (let round = 0; round < rounds; round++) {
    for (const variant of rotate(TRACING_VARIANTS, round)) {
      const [file, env] = variants[variant]
      const { wallMs, cpuMs } = await runWorker(join(ROOT, 'scripts/bench/load.ts'), [file], env)
      samples.get(variant)?.push({ wallMs: wallMs as number, cpuMs: cpuMs as number })
    }
  }
  const of = (variant: TracingVariant, key: 'wallMs' | 'cpuMs') =>
    median((samples.get(variant) ?? []).map((sample) => sample[key]))
  return {
    rounds,
    bytes: {
      withTracing: await bytesOf(traced.outdir),
      without: await bytesOf(join(workDir, 'plain')),
    },
    loadMs: Object.fromEntries(
      TRACING_VARIANTS.map((v) => [v, { wall: of(v, 'wallMs'), cpu: of(v, 'cpuMs') }]),
    ) as TracingCost['loadMs'],
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const work = await mkdtemp(join(tmpdir(), 'bench-tracing-'))
  try {
    process.stdout.write(
      `${tracingTable(await tracingCost(work, Number(process.argv[2] ?? 15)))}\n`,
    )
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
