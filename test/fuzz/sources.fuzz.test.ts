// Fuzzing of the fetchData source syntax (`VAR`, `VAR#field`, `file:path`,
// `file:path#field`): parseSource either returns exactly what the contract says or
// throws INVALID_OPTIONS naming the source; nothing else.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseSource, type Source } from '../../src/core/decrypt.ts'
import {
  bounded,
  expectLibraryError,
  outcomeOf,
  params,
  TEST_TIMEOUT_MS,
  trickyString,
} from './fuzz.ts'

/** The contract (docs/CONTRACT.md "Sources"), restated independently of the code. */
const expected = (text: string): Source | undefined => {
  const [origin = '', ...rest] = text.split('#')
  const field = rest.length === 0 ? undefined : rest.join('#')
  if (field === '') return undefined
  if (origin.startsWith('file:')) {
    const name = origin.slice(5)
    return name === '' ? undefined : { origin, kind: 'file', name, field }
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(origin)) return undefined
  return { origin, kind: 'env', name: origin, field }
}

const envName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/)
const sourceText = fc.oneof(
  trickyString,
  fc
    .tuple(envName, fc.option(trickyString))
    .map(([name, field]) => (field === null ? name : `${name}#${field}`)),
  fc
    .tuple(trickyString, fc.option(trickyString))
    .map(([path, field]) => (field === null ? `file:${path}` : `file:${path}#${field}`)),
)

describe('parseSource', () => {
  it(
    'any text: the source the contract describes, or INVALID_OPTIONS naming it',
    async () => {
      await fc.assert(
        fc.asyncProperty(sourceText, async (text) => {
          // Act
          const outcome = await outcomeOf(() => bounded(() => parseSource(text)))
          // Assess
          const want = expected(text)
          if (want === undefined) {
            expect(outcome.ok).toBe(false)
            if (!outcome.ok) expectLibraryError(outcome.error, ['INVALID_OPTIONS'], text)
          } else {
            expect(outcome).toEqual({ ok: true, value: want })
          }
        }),
        params(),
      )
    },
    TEST_TIMEOUT_MS,
  )
})
