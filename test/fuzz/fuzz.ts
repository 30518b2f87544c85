// Shared by the fuzz tests (test/fuzz/*.fuzz.test.ts): the number of runs, the per-run
// bound, and the checks every outcome must pass.
//
// FUZZ_RUNS sets the runs per property (default 200: the short pass `npm run fuzz:ci`
// and .ci/run use; `npm run fuzz` sets 10 000). FUZZ_SEED replays a failure that
// fast-check reported (it prints the seed and the shrunk counterexample).
import vm from 'node:vm'
import fc from 'fast-check'
import { expect } from 'vitest'
import { KmsSecretsError } from '../../src/core/errors.ts'

const positive = (text: string | undefined, fallback: number) => {
  const n = Number(text)
  return Number.isSafeInteger(n) && n > 0 ? n : fallback
}

export const RUNS = positive(process.env.FUZZ_RUNS, 200)
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED)

/** A hang bound per run, far above what any run takes (a few ms): a hang, not a speed test. */
export const RUN_BOUND_MS = 10_000

/** fast-check parameters of every property: RUNS runs, each bounded by RUN_BOUND_MS. */
export const params = (): fc.Parameters<unknown> => ({
  numRuns: RUNS,
  timeout: RUN_BOUND_MS,
  ...(SEED === undefined ? {} : { seed: SEED }),
})

/** Vitest timeout of one property: every run at its bound would still fit, rounded up. */
export const TEST_TIMEOUT_MS = Math.max(120_000, RUNS * 200)

const sandbox = vm.createContext({})
const call = new vm.Script('run()')

/**
 * Runs a synchronous parser under a watchdog: an infinite loop or a catastrophic regex
 * is interrupted after RUN_BOUND_MS and fails the run (fast-check's `timeout` cannot
 * interrupt synchronous code). Errors and values pass through unchanged.
 */
export const bounded = <T>(fn: () => T): T => {
  sandbox.run = fn
  try {
    return call.runInContext(sandbox, { timeout: RUN_BOUND_MS }) as T
  } finally {
    sandbox.run = undefined
  }
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown }

/** The result or the error of `fn`, sync or async, as data. */
export const outcomeOf = async <T>(fn: () => T | Promise<T>): Promise<Outcome<Awaited<T>>> => {
  try {
    return { ok: true, value: await fn() }
  } catch (error) {
    return { ok: false, error }
  }
}

/** The error is the library's own, with one of the expected codes, and names `variable`. */
export const expectLibraryError = (
  error: unknown,
  codes: readonly string[],
  variable?: string,
): KmsSecretsError => {
  if (!(error instanceof KmsSecretsError)) {
    // The shrunk counterexample is printed by fast-check; the error's name says the kind.
    throw new Error(
      `expected a KmsSecretsError, got ${(error as Error)?.name}: ${(error as Error)?.message}`,
    )
  }
  expect(error.name).toBe('KmsSecretsError')
  expect(codes).toContain(error.code)
  if (variable !== undefined) expect(error.variable).toBe(variable)
  return error
}

/** Strict base64 as KMS emits it (the library's own rule, restated for the oracles). */
export const strictBase64 = (text: string): Buffer | undefined =>
  text.length > 0 && text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text)
    ? Buffer.from(text, 'base64')
    : undefined

/** Text that exercises the usual parser traps: separators, quotes, escapes, odd Unicode. */
export const trickyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\t',
    '\n',
    '\r\n',
    '#',
    '=',
    ':',
    '"',
    "'",
    '`',
    '\\',
    '\\n',
    '\\"',
    '${',
    '}',
    '\u0000',
    '\uFEFF',
    '\u2028',
    'pässwörd€',
    '🔑',
    '__proto__',
    'constructor',
    'kse1:',
    'kse2:',
    'file:',
    '--',
    '-h',
  ),
)

/** Concatenations of tricky pieces: more likely to hit a parser's edge than plain strings. */
export const trickyString = fc.array(trickyText, { maxLength: 6 }).map((pieces) => pieces.join(''))
