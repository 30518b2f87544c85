import type { TracingCost } from './tracing.ts'
// What run.ts measures, as report.ts reads it.

import type { Pattern } from './build.ts'
import type { RicRound } from './ric.ts'

export interface ColdStartSample {
  loadMs: number
  /** Main-thread CPU time of the module load. */
  loadCpuMs: number
  firstResponseMs: number
  maxRssKb: number
  /** Decrypt requests the proxy saw from this process (retries included). */
  decrypts: number
  /** All requests the proxy saw from this process. */
  kmsRequests: number
}

/** Keyed by warm variant label (a pattern, or a pattern with other options). */
export interface WarmRound {
  /** Median of the batches' ns per invoke, in this round. */
  nsPerInvoke: Record<string, number>
  /** Median over the batches of (variant − bare Middy in the same batch and process), ns. */
  overBaseline: Record<string, number>
  /**
   * Median over the batches of (variant − Middy with one empty `before` middleware, in
   * the same batch and process), ns: the variant's cost beyond dispatching a middleware.
   * Absent in results from before the floor was measured.
   */
  overFloor?: Record<string, number>
  /** Median over the batches of (empty-middleware floor − bare Middy), in this process. */
  floorOverBaseline?: Record<string, number>
  /** Requests the proxy saw during the timed warm loop. */
  kmsRequests: Record<string, number>
}

/** Module load of each load variant (by label) in one round of --load-only processes. */
export type LoadRound = Record<string, { wallMs: number; cpuMs: number }>

export interface LogRound {
  plain: { cleanNs: number; leakyNs: number }
  guarded: { cleanNs: number; leakyNs: number }
}

export interface BurstResult {
  mode: 'per-variable' | 'bundle'
  count: number
  n: number
  failed: number
  failuresByCode: Record<string, number>
  slowestMs: number
  slowestOkMs: number | undefined
  medianMs: number
  p95Ms: number
  wallMs: number
  /** Decrypt requests the proxy received (retries and throttled ones included). */
  decryptRequests: number
  /** Attempts and throttled answers seen by the clients. */
  attempts: number
  throttled: number
  /** ms from the start of the burst to the proxy's first request (sampled every 50 ms). */
  firstRequestMs: number | undefined
  /** Most requests the proxy received in any 1-second span. */
  peakPerSecond: number
}

export interface Machine {
  cpu: string
  cores: number
  node: string
  date: string
  loadAverage: string
}

export interface Results {
  machine: Machine
  command: string
  quick: boolean
  latencyMs: number
  runs: number
  sizes: number[]
  cold: Map<string, ColdStartSample[]>
  bytes: Record<Pattern, { bytes: number; bytesBy: Record<string, number> }>
  envBytes: Map<string, number>
  load: { n: number; rounds: LoadRound[] }
  warm: { n: number; invocations: number; rounds: WarmRound[] }
  log: { lines: number; rounds: LogRound[]; secrets: number }
  burst: {
    ratePerSecond: number
    /** Decrypt requests per second the local stack served, measured before the burst. */
    capacityPerSecond: number
    /** The library deadline given to each simulated cold start. */
    timeoutMs: number
    n: number
    results: BurstResult[]
  }
  /** X-Ray tracing's module-load cost (scripts/bench/tracing.ts), when that phase ran. */
  tracing?: TracingCost
  /** Cold starts under aws-lambda-ric (scripts/bench/ric.ts), when that phase ran. */
  ric?: RicRound[]
  durationS: number
}

export const cellKey = (pattern: Pattern, n: number) => `${pattern}|${n}`
