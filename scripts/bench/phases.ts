// The measuring phases of `npm run bench`, each against the running local stack.

import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms'
import { awsEnv, LOCAL_REGION } from '../local/aws-env.ts'
import { type BuiltFunction, PATTERNS, type Pattern, WARM_ONLY } from './build.ts'
import { runNode, runNodeIpc } from './proc.ts'
import {
  type BurstResult,
  type ColdStartSample,
  cellKey,
  type LoadRound,
  type LogRound,
  type WarmRound,
} from './results.ts'
import { DECRYPT, digest, type Fixtures, FUNCTION_NAME, type Stack, secretVar } from './stack.ts'
import { median, percentile } from './stats.ts'

export const SIZES = [1, 5, 20, 50]
export const LOAD_N = 5
export const WARM_N = 5
/** Warm cost vs N: ours (both settings) and the ssm-like peer at each of these. */
export const WARM_SIZES = [1, 5, 20, 50]
export const BURST_N = 20
export const LOG_SECRETS = 5
/** Module-load runs: what the targets compare, plus ours without prefetch (code alone). */
export interface LoadVariant {
  label: string
  pattern: Pattern
  noPrefetch?: boolean
}
export const NO_PREFETCH_SUFFIX = ', disablePrefetch'
export const LOAD_VARIANTS: LoadVariant[] = [
  { label: 'bare-kms', pattern: 'bare-kms' },
  { label: 'per-variable', pattern: 'per-variable' },
  { label: `per-variable${NO_PREFETCH_SUFFIX}`, pattern: 'per-variable', noPrefetch: true },
  { label: 'bundle', pattern: 'bundle' },
  { label: `bundle${NO_PREFETCH_SUFFIX}`, pattern: 'bundle', noPrefetch: true },
  { label: 'per-variable-lite', pattern: 'per-variable-lite' },
  {
    label: `per-variable-lite${NO_PREFETCH_SUFFIX}`,
    pattern: 'per-variable-lite',
    noPrefetch: true,
  },
  { label: 'bare-middy', pattern: 'bare-middy' },
  { label: 'esdk', pattern: 'esdk' },
]

/**
 * Warm runs: every pattern, the empty-middleware floor, and ours with the default
 * options (no setToContext).
 */
export interface WarmVariant {
  label: string
  pattern: Pattern
  defaults?: boolean
  /** Secrets in the function, when not WARM_N. */
  n?: number
}
export const DEFAULTS_SUFFIX = ', default options'
/** The label of a warm variant at another N than WARM_N. */
export const atN = (label: string, n: number) => `${label}, N = ${n}`
export const WARM_VARIANTS: WarmVariant[] = [
  ...PATTERNS.map((pattern) => ({ label: pattern, pattern })),
  ...WARM_ONLY.map((pattern) => ({ label: pattern, pattern })),
  { label: `per-variable${DEFAULTS_SUFFIX}`, pattern: 'per-variable', defaults: true },
  { label: `bundle${DEFAULTS_SUFFIX}`, pattern: 'bundle', defaults: true },
  ...WARM_SIZES.filter((n) => n !== WARM_N).flatMap((n): WarmVariant[] => [
    { label: atN('per-variable', n), pattern: 'per-variable', n },
    { label: atN(`per-variable${DEFAULTS_SUFFIX}`, n), pattern: 'per-variable', defaults: true, n },
    { label: atN('ssm-like', n), pattern: 'ssm-like', n },
  ]),
]

const here = dirname(fileURLToPath(import.meta.url))

export const progress = (text: string) => process.stderr.write(`[bench] ${text}\n`)

export interface PhaseOptions {
  runs: number
  loadRounds: number
  warmInvocations: number
  warmRounds: number
  logLines: number
  logRounds: number
  burstCount: number
  burstRate: number
  burstTimeoutMs: number
}

export interface Bench {
  options: PhaseOptions
  stack: Stack
  fixtures: Fixtures
  secrets: string[]
  functions: Map<Pattern, BuiltFunction>
  /** An empty directory used as HOME: no AWS config files, as in Lambda. */
  home: string
}

/** Patterns in a different order each round, so background load hits all alike. */
export const rotate = <T>(items: readonly T[], by: number): T[] =>
  items.map((_, i) => items[(i + by) % items.length] as T)

/** The encrypted variables a pattern's function gets for N secrets. */
export const secretsEnv = (bench: Bench, pattern: Pattern, n: number): Record<string, string> => {
  const { fixtures, stack } = bench
  switch (pattern) {
    case 'naive':
    case 'per-variable':
    case 'per-variable-lite':
    case 'ssm-like':
      return Object.fromEntries(fixtures.blobs.slice(0, n).map((blob, i) => [secretVar(i), blob]))
    case 'bundle':
    case 'bundle-lite':
      return { BUNDLE: fixtures.bundles.get(n) as string }
    case 'esdk':
      return { BUNDLE_ESDK: fixtures.esdk.get(n) as string, BENCH_KEY_ARN: stack.keyArn }
    default:
      return {}
  }
}

/** A Lambda-like environment: no AWS config files (empty HOME), endpoint = the proxy. */
export const functionEnv = (bench: Bench, pattern: Pattern, n: number): NodeJS.ProcessEnv => {
  const bare = pattern === 'bare-kms' || pattern === 'bare-middy' || pattern === 'empty-middleware'
  return {
    HOME: bench.home,
    ...awsEnv(bench.stack.proxy.endpoint),
    AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME,
    BENCH_N: String(n),
    ...(bare ? {} : { BENCH_EXPECT: digest(bench.secrets.slice(0, n)) }),
    ...secretsEnv(bench, pattern, n),
  }
}

const fileOf = (bench: Bench, pattern: Pattern) =>
  (bench.functions.get(pattern) as BuiltFunction).file

interface ColdStartLine {
  loadMs: number
  loadCpuMs: number
  firstResponseMs?: number
  maxRssKb?: number
  verified?: boolean | null
  error?: unknown
}

const coldStartProcess = async (
  bench: Bench,
  pattern: Pattern,
  n: number,
  loadOnly: boolean,
  extraEnv: Record<string, string> = {},
): Promise<ColdStartLine> => {
  const args = [fileOf(bench, pattern), ...(loadOnly ? ['--load-only'] : [])]
  const what = `cold start ${pattern} N=${n}`
  const result = await runNode(
    join(here, 'cold-start.ts'),
    args,
    { ...functionEnv(bench, pattern, n), ...extraEnv },
    120_000,
  )
  let parsed: ColdStartLine
  try {
    parsed = JSON.parse(result.stdout.trim().split('\n').pop() ?? '')
  } catch {
    throw new Error(
      `${what} printed no result (exit ${result.code}):\n${result.stderr.slice(-2000)}`,
    )
  }
  if (result.code !== 0 || parsed.error) {
    throw new Error(
      `${what} failed: ${JSON.stringify(parsed.error)}\n${result.stderr.slice(-2000)}`,
    )
  }
  if (parsed.verified === false) throw new Error(`${what} decrypted wrong values`)
  return parsed
}

/** Fresh process per cold start, sequential, round-robin over N and patterns. */
export const coldStarts = async (bench: Bench): Promise<Map<string, ColdStartSample[]>> => {
  const { proxy } = bench.stack
  const cold = new Map<string, ColdStartSample[]>()
  const total = bench.options.runs * SIZES.length * PATTERNS.length
  let done = 0
  for (let run = 0; run < bench.options.runs; run++) {
    for (const [sizeIndex, n] of SIZES.entries()) {
      for (const pattern of rotate(PATTERNS, run + sizeIndex)) {
        proxy.resetCounts()
        const line = await coldStartProcess(bench, pattern, n, false)
        const counts = proxy.counts()
        const sample: ColdStartSample = {
          loadMs: line.loadMs,
          loadCpuMs: line.loadCpuMs,
          firstResponseMs: line.firstResponseMs as number,
          maxRssKb: line.maxRssKb as number,
          decrypts: counts[DECRYPT] ?? 0,
          kmsRequests: Object.values(counts).reduce((sum, count) => sum + count, 0),
        }
        if (sample.decrypts === 0 && pattern !== 'bare-kms' && pattern !== 'bare-middy') {
          throw new Error(`cold start ${pattern} N=${n}: no Decrypt reached the local proxy`)
        }
        const key = cellKey(pattern, n)
        cold.set(key, [...(cold.get(key) ?? []), sample])
        done++
      }
      progress(
        `cold starts ${done}/${total} (run ${run + 1}/${bench.options.runs}, N=${n}: ${PATTERNS.map((p) => `${p} ${cold.get(cellKey(p, n))?.at(-1)?.firstResponseMs.toFixed(0)}`).join(', ')} ms)`,
      )
    }
  }
  return cold
}

/** Module load only, many rounds of the variants the targets compare, back to back. */
export const loadRounds = async (bench: Bench): Promise<LoadRound[]> => {
  const rounds: LoadRound[] = []
  for (let round = 0; round < bench.options.loadRounds; round++) {
    const result: LoadRound = {}
    for (const variant of rotate(LOAD_VARIANTS, round)) {
      const env: Record<string, string> = variant.noPrefetch ? { BENCH_NO_PREFETCH: 'true' } : {}
      const line = await coldStartProcess(bench, variant.pattern, LOAD_N, true, env)
      result[variant.label] = { wallMs: line.loadMs, cpuMs: line.loadCpuMs }
    }
    rounds.push(result)
    if ((round + 1) % 5 === 0 || round + 1 === bench.options.loadRounds) {
      progress(
        `module load round ${round + 1}/${bench.options.loadRounds} (wall/CPU ms): ${LOAD_VARIANTS.map(({ label }) => `${label} ${result[label]?.wallMs.toFixed(0)}/${result[label]?.cpuMs.toFixed(0)}`).join(', ')}`,
      )
    }
  }
  return rounds
}

export const warmRounds = async (bench: Bench): Promise<WarmRound[]> => {
  const { proxy } = bench.stack
  const rounds: WarmRound[] = []
  for (let round = 0; round < bench.options.warmRounds; round++) {
    const result: Required<WarmRound> = {
      nsPerInvoke: {},
      overBaseline: {},
      overFloor: {},
      floorOverBaseline: {},
      kmsRequests: {},
    }
    for (const variant of rotate(WARM_VARIANTS, round)) {
      const env = functionEnv(bench, variant.pattern, variant.n ?? WARM_N)
      if (variant.defaults) {
        // Values stay in request.internal: the handler cannot show them to be checked
        // (the cold starts check the same function with setToContext).
        env.BENCH_SET_TO_CONTEXT = 'false'
        delete env.BENCH_EXPECT
      }
      const message = await runNodeIpc(
        join(here, 'warm.ts'),
        [
          fileOf(bench, variant.pattern),
          fileOf(bench, 'bare-middy'),
          fileOf(bench, 'empty-middleware'),
          String(bench.options.warmInvocations),
          '20',
        ],
        env,
        180_000,
        () => proxy.resetCounts(),
      )
      const ns = message.nsPerInvoke as number[]
      const base = message.baselineNs as number[]
      const floor = message.floorNs as number[]
      const minus = (a: number[], b: number[]) =>
        median(a.map((value, i) => value - (b[i] as number)))
      result.nsPerInvoke[variant.label] = median(ns)
      result.overBaseline[variant.label] = minus(ns, base)
      result.overFloor[variant.label] = minus(ns, floor)
      result.floorOverBaseline[variant.label] = minus(floor, base)
      result.kmsRequests[variant.label] = proxy.total()
    }
    rounds.push(result)
    const over = (label: string) =>
      `${(result.overBaseline[label] ?? Number.NaN).toFixed(0)}/${(result.overFloor[label] ?? Number.NaN).toFixed(0)}`
    progress(
      `warm round ${round + 1}/${bench.options.warmRounds}, ns per invoke over bare Middy / over the empty-middleware floor: ${['per-variable', 'bundle', `per-variable${DEFAULTS_SUFFIX}`, `bundle${DEFAULTS_SUFFIX}`, 'bare-middy', 'empty-middleware'].map((label) => `${label} ${over(label)}`).join(', ')}`,
    )
  }
  return rounds
}

export const logRounds = async (bench: Bench): Promise<LogRound[]> => {
  const env = functionEnv(bench, 'per-variable', LOG_SECRETS)
  const rounds: LogRound[] = []
  for (let round = 0; round < bench.options.logRounds; round++) {
    const result: Partial<LogRound> = {}
    for (const mode of rotate(['plain', 'guarded'] as const, round)) {
      const message = await runNodeIpc(
        join(here, 'log-cost.ts'),
        [mode, String(bench.options.logLines), '10'],
        env,
        180_000,
      )
      result[mode] = {
        cleanNs: median(message.cleanNs as number[]),
        leakyNs: median(message.leakyNs as number[]),
      }
    }
    rounds.push(result as LogRound)
    progress(
      `log guard round ${round + 1}/${bench.options.logRounds}: ${result.plain?.cleanNs.toFixed(0)} ns/line plain, ${result.guarded?.cleanNs.toFixed(0)} ns/line guarded`,
    )
  }
  return rounds
}

/**
 * What the local stack itself can serve: Decrypt requests per second, 300 at once
 * from one client through the proxy (injected latency included). Context for the burst.
 */
export const localCapacity = async (bench: Bench): Promise<number> => {
  const client = new KMSClient({
    endpoint: bench.stack.proxy.endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  })
  try {
    const request = () =>
      client.send(
        new DecryptCommand({
          CiphertextBlob: Buffer.from(bench.fixtures.blobs[0] as string, 'base64'),
          EncryptionContext: { LambdaFunctionName: FUNCTION_NAME },
        }),
      )
    await Promise.all(Array.from({ length: 20 }, request))
    const count = 300
    const start = performance.now()
    await Promise.all(Array.from({ length: count }, request))
    return (count * 1000) / (performance.now() - start)
  } finally {
    client.destroy()
  }
}

export const bursts = async (bench: Bench): Promise<BurstResult[]> => {
  const { proxy } = bench.stack
  const { burstCount, burstRate } = bench.options
  const env = {
    ...functionEnv(bench, 'per-variable', BURST_N),
    ...secretsEnv(bench, 'bundle', BURST_N),
  }
  const results: BurstResult[] = []
  for (const mode of ['bundle', 'per-variable'] as const) {
    progress(
      `at scale: ${burstCount} concurrent cold starts, ${mode}, N=${BURST_N}, Decrypt throttled above ${burstRate}/s`,
    )
    let message: Awaited<ReturnType<typeof runNodeIpc>>
    // Arrivals at the proxy over time, sampled every 50 ms from 'go'.
    const arrivals: { at: number; total: number }[] = []
    let sampler: NodeJS.Timeout | undefined
    try {
      message = await runNodeIpc(
        join(here, 'burst.ts'),
        [mode, String(burstCount), String(BURST_N), String(bench.options.burstTimeoutMs)],
        env,
        300_000,
        () => {
          proxy.resetCounts()
          proxy.throttleAbove({ ratePerSecond: burstRate, match: DECRYPT })
          const go = performance.now()
          const sample = () => arrivals.push({ at: performance.now() - go, total: proxy.total() })
          sample()
          sampler = setInterval(sample, 50)
        },
      )
    } finally {
      clearInterval(sampler)
      proxy.throttleAbove(null)
    }
    const outcomes = message.outcomes as { ms: number; code?: string }[]
    const failuresByCode: Record<string, number> = {}
    for (const { code } of outcomes) {
      if (code !== undefined) failuresByCode[code] = (failuresByCode[code] ?? 0) + 1
    }
    const ok = outcomes.filter((outcome) => outcome.code === undefined).map((o) => o.ms)
    const all = outcomes.map((outcome) => outcome.ms)
    const result: BurstResult = {
      mode,
      count: outcomes.length,
      n: BURST_N,
      failed: outcomes.length - ok.length,
      failuresByCode,
      slowestMs: Math.max(...all),
      slowestOkMs: ok.length ? Math.max(...ok) : undefined,
      medianMs: median(all),
      p95Ms: percentile(all, 95),
      wallMs: message.wallMs as number,
      decryptRequests: proxy.counts()[DECRYPT] ?? 0,
      attempts: message.attempts as number,
      throttled: message.throttled as number,
      firstRequestMs: arrivals.find((a) => a.total > 0)?.at,
      peakPerSecond: peakPerSecond(arrivals),
    }
    results.push(result)
    progress(
      `  ${result.failed}/${result.count} failed ${JSON.stringify(failuresByCode)}, slowest ${result.slowestMs.toFixed(0)} ms, ${result.decryptRequests} Decrypt requests (${result.throttled} throttled), first at ${result.firstRequestMs?.toFixed(0)} ms, peak ${result.peakPerSecond}/s`,
    )
  }
  return results
}

/** Most requests the proxy received in any 1-second span of the samples. */
const peakPerSecond = (arrivals: readonly { at: number; total: number }[]): number => {
  let peak = 0
  let from = 0
  for (const sample of arrivals) {
    while ((arrivals[from] as { at: number }).at < sample.at - 1000) from++
    peak = Math.max(peak, sample.total - (arrivals[from] as { total: number }).total)
  }
  return peak
}
