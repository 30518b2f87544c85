import { closest } from 'middy-kms-secrets/format'

/**
 * The command or option meant (a name that starts with what was typed, or one at most a
 * third of its letters off), or undefined for a word too short to tell.
 */
export const suggest = (typed: string, known: readonly string[]): string | undefined => {
  const word = typed.toLowerCase()
  if (word.length < 2) return undefined
  return (
    known.find((name) => name.startsWith(word)) ??
    closest(word, known, Math.max(1, Math.floor(word.length / 3)))
  )
}
