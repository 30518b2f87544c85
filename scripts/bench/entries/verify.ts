// Shared by the benchmark functions: how a cold start proves it decrypted the right
// values without printing them. FNV-1a (32-bit) over the values joined by newlines.

export const digest = (values: readonly string[]): string => {
  let hash = 0x811c9dc5
  const text = values.join('\n')
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash.toString(16).padStart(8, '0')
}

/** Number of secrets this function reads (set by the benchmark per cell). */
export const secretCount = (): number => Number(process.env.BENCH_N ?? '1')

export interface BenchEvent {
  verify?: boolean
}

export const OK = { statusCode: 200 }
