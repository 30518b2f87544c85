// Small statistics for the benchmark report.

export const median = (values: readonly number[]): number => percentile(values, 50, true)

/** The p-th percentile (nearest rank); the median averages the two middle values. */
export const percentile = (values: readonly number[], p: number, mid = false): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const at = (i: number) => sorted[Math.min(sorted.length - 1, Math.max(0, i))] as number
  const half = sorted.length / 2
  if (mid) return sorted.length % 2 ? at(Math.floor(half)) : (at(half - 1) + at(half)) / 2
  return at(Math.ceil((p / 100) * sorted.length) - 1)
}

/** Items in a different order each round, so that background load hits all alike. */
export const rotate = <T>(items: readonly T[], by: number): T[] =>
  items.map((_, i) => items[(i + by) % items.length] as T)

/** A small seeded PRNG (mulberry32), so that a report is reproducible from its data. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/**
 * 95% percentile-bootstrap interval (2,000 resamples) of a statistic of one or more
 * independent samples, each resampled with replacement: how far noise could move it.
 */
export const bootstrap = (
  samples: readonly (readonly number[])[],
  statistic: (...resampled: number[][]) => number,
): [number, number] => {
  if (samples.some((values) => values.length === 0)) return [Number.NaN, Number.NaN]
  const next = random(0x5eed)
  const stats = Array.from({ length: 2000 }, () =>
    statistic(
      ...samples.map((values) =>
        values.map(() => values[Math.floor(next() * values.length)] as number),
      ),
    ),
  )
  return [percentile(stats, 2.5), percentile(stats, 97.5)]
}
