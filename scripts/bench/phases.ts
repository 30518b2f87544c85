// The measuring phases of `npm run bench` besides the cold starts (cold.ts), each against the
// running local stack, each in worker processes (proc.ts).

import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms'
import { awsEnv, LOCAL_REGION } from '../local/aws-env.ts'
import { type BuiltFunction, PATTERNS, type Pattern, WARM_ONLY } from './build.ts'
import { runWorker } from './proc.ts'
import type { BurstResult, LoadRound, LogRound, WarmRound } from './results.ts'
import type { Options } from './run.ts'
import { DECRYPT, digest, type Fixtures, FUNCTION_NAME, type Stack, secretVar } from './stack.ts'
import { median, percentile, rotate } from './stats.ts'

export const SIZES = [1, 5, 20, 50]
export const LOAD_N = 5
export const WARM_N = 5
export const BURST_N = 20
export const LOG_SECRETS = 5
export const NO_PREFETCH = ', disablePrefetch'
export const DEFAULTS = ', default options'

/** Module-load variants: what the targets compare, and ours without prefetch (code alone). */
export const LOAD_VARIANTS = [
  ...['bare-kms', 'bare-middy', 'per-variable', 'bundle', 'per-variable-lite', 'esdk'],
  ...['per-variable', 'bundle', 'per-variable-lite'].map((pattern) => `${pattern}${NO_PREFETCH}`),
].map((label) => ({ label, pattern: label.replace(NO_PREFETCH, '') as Pattern }))

/** The label of a warm variant at another N than WARM_N. */
export const atN = (label: string, n: number) => (n === WARM_N ? label : `${label}, N = ${n}`)

const warmVariant = (pattern: Pattern, n = WARM_N, defaults = false) => {
  const label = atN(`${pattern}${defaults ? DEFAULTS : ''}`, n)
  return { label, pattern, n, defaults }
}
/** Every pattern and the floor at WARM_N; ours (both settings) and the peer at every N. */
export const WARM_VARIANTS = [
  ...[...PATTERNS, ...WARM_ONLY].map((pattern) => warmVariant(pattern)),
  warmVariant('bundle', WARM_N, true),
  ...SIZES.flatMap((n) => [
    warmVariant('per-variable', n, true),
    ...(n === WARM_N ? [] : [warmVariant('per-variable', n), warmVariant('ssm-like', n)]),
  ]),
]

const here = dirname(fileURLToPath(import.meta.url))

export const progress = (text: string) => process.stderr.write(`[bench] ${text}\n`)

export interface Bench {
  options: Options
  stack: Stack
  fixtures: Fixtures
  secrets: string[]
  functions: Map<Pattern, BuiltFunction>
  /** An empty directory used as HOME: no AWS config files, as in Lambda. */
  home: string
}

/** The encrypted variables a pattern's function gets for N secrets. */
export const secretsEnv = (bench: Bench, pattern: Pattern, n: number): Record<string, string> => {
  const { blobs, bundles, esdk } = bench.fixtures
  if (pattern.startsWith('bundle')) return { BUNDLE: bundles.get(n) as string }
  if (pattern === 'esdk') {
    return { BUNDLE_ESDK: esdk.get(n) as string, BENCH_KEY_ARN: bench.stack.keyArn }
  }
  if (pattern.startsWith('bare') || pattern === 'empty-middleware') return {}
  return Object.fromEntries(blobs.slice(0, n).map((blob, i) => [secretVar(i), blob]))
}

/** A Lambda-like environment: no AWS config files (empty HOME), endpoint = the proxy. */
export const functionEnv = (bench: Bench, pattern: Pattern, n: number): NodeJS.ProcessEnv => {
  const secrets = secretsEnv(bench, pattern, n)
  return {
    HOME: bench.home,
    ...awsEnv(bench.stack.proxy.endpoint),
    AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME,
    BENCH_N: String(n),
    ...(Object.keys(secrets).length ? { BENCH_EXPECT: digest(bench.secrets.slice(0, n)) } : {}),
    ...secrets,
  }
}

const fileOf = (bench: Bench, pattern: Pattern) =>
  (bench.functions.get(pattern) as BuiltFunction).file

/** Bytes of the encrypted variables (names + values) by pattern|N. */
export const envBytes = (bench: Bench, key: (pattern: Pattern, n: number) => string) =>
  Object.fromEntries(
    PATTERNS.flatMap((pattern) =>
      SIZES.map((n) => {
        const vars = Object.entries(secretsEnv(bench, pattern, n)).filter(
          ([name]) => name !== 'BENCH_KEY_ARN',
        )
        return [
          key(pattern, n),
          vars.reduce((sum, [name, value]) => sum + name.length + value.length, 0),
        ]
      }),
    ),
  )

/** Module load only (load.ts), round after round of every variant, order rotated. */
export const loadRounds = async (bench: Bench): Promise<LoadRound[]> => {
  const rounds: LoadRound[] = []
  for (let round = 0; round < bench.options.loadRounds; round++) {
    const result: LoadRound = {}
    for (const { label, pattern } of rotate(LOAD_VARIANTS, round)) {
      const env = functionEnv(bench, pattern, LOAD_N)
      if (label.endsWith(NO_PREFETCH)) env.BENCH_NO_PREFETCH = 'true'
      const { wallMs, cpuMs } = await runWorker(
        join(here, 'load.ts'),
        [fileOf(bench, pattern)],
        env,
      )
      result[label] = { wallMs: wallMs as number, cpuMs: cpuMs as number }
    }
    rounds.push(result)
    if ((round + 1) % 5 === 0 || round + 1 === bench.options.loadRounds) {
      const shown = LOAD_VARIANTS.map(({ label }) => `${label} ${result[label]?.cpuMs.toFixed(0)}`)
      progress(
        `module load round ${round + 1}/${bench.options.loadRounds} (CPU ms): ${shown.join(', ')}`,
      )
    }
  }
  return rounds
}

/** One warm.ts process per variant and round; KMS requests counted from its 'go'. */
export const warmRounds = async (bench: Bench): Promise<WarmRound[]> => {
  const { proxy } = bench.stack
  const rounds: WarmRound[] = []
  for (let round = 0; round < bench.options.warmRounds; round++) {
    const result: WarmRound = {}
    for (const { label, pattern, defaults, n } of rotate(WARM_VARIANTS, round)) {
      const env = functionEnv(bench, pattern, n)
      if (defaults) {
        // Values stay in request.internal: the handler cannot show them to be checked
        // (the cold starts check the same function with setToContext).
        env.BENCH_SET_TO_CONTEXT = 'false'
        delete env.BENCH_EXPECT
      }
      const files = [pattern, 'bare-middy', 'empty-middleware'].map((p) =>
        fileOf(bench, p as Pattern),
      )
      const args = [...files, String(bench.options.warmInvocations), '20']
      const message = await runWorker(join(here, 'warm.ts'), args, env, () => proxy.resetCounts())
      const [ns, bare, floor] = (['ns', 'bare', 'floor'] as const).map(
        (k) => message[k] as number[],
      )
      const minus = (a = [] as number[], b = [] as number[]) =>
        median(a.map((v, i) => v - (b[i] as number)))
      result[label] = {
        ns: median(ns ?? []),
        overBare: minus(ns, bare),
        overFloor: minus(ns, floor),
        kms: proxy.total(),
      }
    }
    rounds.push(result)
    const shown = ['per-variable', `per-variable${DEFAULTS}`, 'bundle', 'empty-middleware']
    progress(
      `warm round ${round + 1}/${bench.options.warmRounds}, ns per invoke over bare Middy: ${shown.map((l) => `${l} ${result[l]?.overBare.toFixed(0)}`).join(', ')}`,
    )
  }
  return rounds
}

/** The redactLogs guard: a log-cost.ts process per mode and round. */
export const logRounds = async (bench: Bench): Promise<LogRound[]> => {
  const env = functionEnv(bench, 'per-variable', LOG_SECRETS)
  const rounds: LogRound[] = []
  for (let round = 0; round < bench.options.logRounds; round++) {
    const result: Partial<LogRound> = {}
    for (const mode of rotate(['plain', 'guarded'] as const, round)) {
      const message = await runWorker(
        join(here, 'log-cost.ts'),
        [mode, String(bench.options.logLines)],
        env,
      )
      result[mode] = { cleanNs: message.cleanNs as number, leakyNs: message.leakyNs as number }
    }
    rounds.push(result as LogRound)
    progress(
      `log guard round ${round + 1}/${bench.options.logRounds}: ${result.plain?.cleanNs.toFixed(0)} ns/line plain, ${result.guarded?.cleanNs.toFixed(0)} ns/line guarded`,
    )
  }
  return rounds
}

/** What the local stack serves: Decrypt requests per second, 300 at once through the proxy. */
export const localCapacity = async (bench: Bench): Promise<number> => {
  const client = new KMSClient({
    endpoint: bench.stack.proxy.endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  })
  const CiphertextBlob = Buffer.from(bench.fixtures.blobs[0] as string, 'base64')
  const request = () =>
    client.send(
      new DecryptCommand({
        CiphertextBlob,
        EncryptionContext: { LambdaFunctionName: FUNCTION_NAME },
      }),
    )
  try {
    await Promise.all(Array.from({ length: 20 }, request))
    const start = performance.now()
    await Promise.all(Array.from({ length: 300 }, request))
    return 300_000 / (performance.now() - start)
  } finally {
    client.destroy()
  }
}

/** Most requests the proxy received in any 1-second span of the samples. */
const peakPerSecond = (arrivals: readonly { at: number; total: number }[]): number => {
  let from = 0
  return Math.max(
    0,
    ...arrivals.map((sample) => {
      while ((arrivals[from] as { at: number }).at < sample.at - 1000) from++
      return sample.total - (arrivals[from] as { total: number }).total
    }),
  )
}

/** One burst.ts process per mode, the proxy throttling Decrypt above the rate from its 'go'. */
export const bursts = async (bench: Bench): Promise<BurstResult[]> => {
  const { proxy } = bench.stack
  const { burstCount, burstRate, burstTimeoutMs } = bench.options
  const env = {
    ...functionEnv(bench, 'per-variable', BURST_N),
    ...secretsEnv(bench, 'bundle', BURST_N),
  }
  const results: BurstResult[] = []
  for (const mode of ['bundle', 'per-variable'] as const) {
    progress(
      `at scale: ${burstCount} concurrent cold starts, ${mode}, N=${BURST_N}, Decrypt throttled above ${burstRate}/s`,
    )
    // Arrivals at the proxy over time, sampled every 50 ms from 'go'.
    const arrivals: { at: number; total: number }[] = []
    let sampler: NodeJS.Timeout | undefined
    const onGo = () => {
      proxy.resetCounts()
      proxy.throttleAbove({ ratePerSecond: burstRate, match: DECRYPT })
      const go = performance.now()
      const sample = () => arrivals.push({ at: performance.now() - go, total: proxy.total() })
      sample()
      sampler = setInterval(sample, 50)
    }
    const args = [mode, String(burstCount), String(BURST_N), String(burstTimeoutMs)]
    const message = await runWorker(join(here, 'burst.ts'), args, env, onGo).finally(() => {
      clearInterval(sampler)
      proxy.throttleAbove(null)
    })
    const outcomes = message.outcomes as { ms: number; code?: string }[]
    const failuresByCode: Record<string, number> = {}
    for (const { code } of outcomes)
      if (code) failuresByCode[code] = (failuresByCode[code] ?? 0) + 1
    const ok = outcomes.filter((outcome) => outcome.code === undefined).map((o) => o.ms)
    const all = outcomes.map((outcome) => outcome.ms)
    const result: BurstResult = {
      mode,
      count: outcomes.length,
      failed: outcomes.length - ok.length,
      failuresByCode,
      slowestMs: Math.max(...all),
      medianMs: median(all),
      p95Ms: percentile(all, 95),
      decryptRequests: proxy.counts()[DECRYPT] ?? 0,
      throttled: message.throttled as number,
      firstRequestMs: arrivals.find((a) => a.total > 0)?.at,
      peakPerSecond: peakPerSecond(arrivals),
    }
    results.push(result)
    progress(
      `  ${result.failed}/${result.count} failed ${JSON.stringify(failuresByCode)}, slowest ${result.slowestMs.toFixed(0)} ms, ${result.decryptRequests} Decrypt requests (${result.throttled} throttled)`,
    )
  }
  return results
}
