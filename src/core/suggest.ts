// Did-you-mean, for option names (src/core/options.ts) and the CLI's commands and options
// (cli/src/args.ts, cli/src/main.ts).

/** Levenshtein distance (names are short: the quadratic cost is nothing). */
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
 * The known name nearest to what was typed, case aside, at most `maxEdits` edits away (the
 * first of equals), or undefined. Only names from `known` come back: what was typed is
 * never part of the answer.
 */
export const closest = (
  typed: string,
  known: readonly string[],
  maxEdits: number,
): string | undefined => {
  const word = typed.toLowerCase()
  let best: string | undefined
  let bestDistance = maxEdits + 1
  for (const name of known) {
    const d = distance(word, name.toLowerCase())
    if (d < bestDistance) {
      best = name
      bestDistance = d
    }
  }
  return best
}
