/** Levenshtein distance, for did-you-mean (argv is short: the quadratic cost is nothing). */
const distance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      )
    }
    previous = current
  }
  return previous[b.length] as number
}

/**
 * The known name closest to what was typed (a prefix of it, or at most a third of its
 * letters off), or undefined. Only names from `known` come back: what was typed is never
 * part of the answer.
 */
export const closest = (typed: string, known: readonly string[]): string | undefined => {
  const word = typed.toLowerCase()
  if (word.length < 2) return undefined
  const prefixed = known.find((name) => name.startsWith(word))
  if (prefixed !== undefined) return prefixed
  let best: string | undefined
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1
  for (const name of known) {
    const d = distance(word, name)
    if (d < bestDistance) {
      best = name
      bestDistance = d
    }
  }
  return best
}
