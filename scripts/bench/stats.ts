// Small statistics for the bench: medians, percentiles, rotation, bootstrap intervals.

export const median = (values: readonly number[]) => percentile(values, 50, true)

/** Nearest rank; with `mid`, the mean of the two middle values for an even count. */
export const percentile = (values: readonly number[], p: number, mid = false): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (i: number) => sorted[Math.min(sorted.length - 1, Math.max(0, i))] ?? Number.NaN
  const half = sorted.length / 2
  if (mid && sorted.length % 2 === 0) return (at(half - 1) + at(half)) / 2
  return mid ? at(Math.floor(half)) : at(Math.ceil((p / 100) * sorted.length) - 1)
}

/** Items in a different order each round, so that background load hits all alike. */
export const rotate = <T>(items: readonly T[], by: number): T[] =>
  items.map((_, i) => items[(i + by) % items.length] as T)

/** 95% percentile-bootstrap interval (2,000 resamples, seeded: a report is reproducible). */
export const bootstrap = (
  samples: readonly (readonly number[])[],
  statistic: (...resampled: number[][]) => number,
): [number, number] => {
  let seed = 0x5eed // mulberry32
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const resample = (values: readonly number[]) =>
    values.map(() => values[Math.floor(next() * values.length)] as number)
  const stats = Array.from({ length: 2000 }, () => statistic(...samples.map(resample)))
  return [percentile(stats, 2.5), percentile(stats, 97.5)]
}
