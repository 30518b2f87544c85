// Small statistics for the benchmark report.

export const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

export const min = (values: readonly number[]): number => Math.min(...values)
export const max = (values: readonly number[]): number => Math.max(...values)

export const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index] as number
}

/** A small seeded PRNG (mulberry32), so that a report is reproducible from its data. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const resample = (values: readonly number[], next: () => number): number[] =>
  values.map(() => values[Math.floor(next() * values.length)] as number)

const RESAMPLES = 2000

/**
 * 95% percentile-bootstrap interval of a statistic of one or more independent samples
 * (each resampled with replacement): how far the noise could move the number.
 */
export const bootstrap = (
  samples: readonly (readonly number[])[],
  statistic: (...resampled: number[][]) => number,
): [number, number] => {
  if (samples.some((values) => values.length === 0)) return [Number.NaN, Number.NaN]
  const next = random(0x5eed)
  const stats: number[] = []
  for (let i = 0; i < RESAMPLES; i++) {
    stats.push(statistic(...samples.map((values) => resample(values, next))))
  }
  return [percentile(stats, 2.5), percentile(stats, 97.5)]
}
