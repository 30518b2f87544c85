// What run.ts measures, as report.ts reads it and --json writes it.

import type { TracingCost } from './tracing.ts'

/** One cold start under aws-lambda-ric, ms from the spawn of its process. */
export interface ColdSample {
  /** INIT done: the runtime's first GET /next (Node, the runtime client, the module loaded). */
  initMs: number
  /** The first invocation's answer. */
  firstMs: number
  /** Peak RSS of the process at that answer. */
  rssKb: number
  /** Decrypt requests the proxy saw from this process (retries included). */
  decrypts: number
}

/** Module load (import only, load.ts) of each variant, by label, in one round. */
export type LoadRound = Record<string, { wallMs: number; cpuMs: number }>

/**
 * One warm.ts process per variant label: tinybench's mean ns per invoke (median over the
 * batches), and the median over the batches of (variant − bare Middy) and (variant − the
 * empty-middleware floor) in the same process; KMS requests during the timed loops.
 */
export type WarmRound = Record<
  string,
  { ns: number; overBare: number; overFloor: number; kms: number }
>

export type LogRound = Record<'plain' | 'guarded', { cleanNs: number; leakyNs: number }>

export interface BurstResult {
  mode: 'per-variable' | 'bundle'
  count: number
  failed: number
  failuresByCode: Record<string, number>
  slowestMs: number
  medianMs: number
  p95Ms: number
  /** Decrypt requests the proxy received (retries and throttled ones included). */
  decryptRequests: number
  /** Throttled answers seen by the clients. */
  throttled: number
  /** ms from the start of the burst to the proxy's first request (sampled every 50 ms). */
  firstRequestMs: number | undefined
  /** Most requests the proxy received in any 1-second span. */
  peakPerSecond: number
}

export interface Results {
  machine: { cpu: string; cores: number; node: string; date: string; loadAverage: string }
  command: string
  quick: boolean
  latencyMs: number
  runs: number
  sizes: number[]
  /** By cellKey(pattern, N). */
  cold: Record<string, ColdSample[]>
  bytes: Record<string, { bytes: number; bytesBy: Record<string, number> }>
  /** Bytes of the encrypted variables, by cellKey(pattern, N). */
  envBytes: Record<string, number>
  load: { n: number; rounds: LoadRound[] }
  warm: { invocations: number; rounds: WarmRound[] }
  log: { lines: number; secrets: number; rounds: LogRound[] }
  burst: {
    ratePerSecond: number
    /** Decrypt requests per second the local stack served, measured before the burst. */
    capacityPerSecond: number
    /** The library deadline given to each simulated cold start. */
    timeoutMs: number
    n: number
    results: BurstResult[]
  }
  /** X-Ray tracing's module-load cost (tracing.ts), when that phase ran. */
  tracing?: TracingCost
  durationS: number
}

export const cellKey = (pattern: string, n: number) => `${pattern}|${n}`
