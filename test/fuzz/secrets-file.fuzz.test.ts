// Fuzzing of secrets files (`file:path`, `file:path#field`): a file holding some text
// reads exactly like an env var holding the same text (same plaintext, or same error
// code), and any path that cannot be read is MISSING_VARIABLE naming the source.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fakeKmsEachTest } from '../unit/fake-kms.ts'
import { expectLibraryError, outcomeOf, params, TEST_TIMEOUT_MS, trickyString } from './fuzz.ts'
import {
  checkOutcome,
  encryptSeed,
  isIntact,
  mutate,
  mutationArb,
  readSeed,
  readsArb,
  type Seed,
  seedArb,
} from './values.ts'

// The reads go to this KMS double (no test looks at its calls).
fakeKmsEachTest()
let root: string
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'kms-secrets-fuzz-'))
})
afterAll(() => {
  rmSync(root, { recursive: true, force: true })
})

/** Comparable: the values, or the error's code. */
const summary = (outcome: Awaited<ReturnType<typeof readSeed>>) =>
  outcome.ok ? { values: outcome.value } : { code: (outcome.error as { code?: unknown }).code }

let n = 0

describe('secrets files', () => {
  it(
    'a file reads like an env var with the same text, relative (LAMBDA_TASK_ROOT) or absolute',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          seedArb,
          mutationArb,
          readsArb,
          fc.boolean(),
          async (raw, mutation, reads, absolute) => {
            // Prepare
            const { seed, text: encrypted } = await encryptSeed(raw)
            const text = mutate(encrypted, mutation)
            n += 1
            const name = `secrets-${n}.enc`
            writeFileSync(join(root, name), text)
            const origin = `file:${absolute ? join(root, name) : name}`
            // Act
            const fromFile = await readSeed(origin, { LAMBDA_TASK_ROOT: root }, seed, reads)
            const fromEnv = await readSeed('VAR', { VAR: text }, seed, reads)
            // Assess
            checkOutcome(fromFile, seed, reads, isIntact(mutation), text, origin)
            expect(summary(fromFile)).toEqual(summary(fromEnv))
          },
        ),
        params(),
      )
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'a path that cannot be read is MISSING_VARIABLE (or INVALID_OPTIONS for an empty path)',
    async () => {
      // Relative paths only (the task root is empty), plus "/" (a directory): the fuzzer
      // must not read whatever lives at a random absolute path of this machine.
      const path = fc.oneof(
        trickyString.filter((name) => !name.startsWith('/')),
        fc.constantFrom('.', '..', '/', 'missing.enc', 'dir/', '\u0000', 'a\u0000b', '~'),
      )
      const empty = mkdtempSync(join(root, 'empty-'))
      await fc.assert(
        fc.asyncProperty(path, async (name) => {
          // Prepare: the task root is empty, so no relative path exists
          const origin = `file:${name.split('#')[0]}`
          const seed: Seed = { plaintext: Buffer.alloc(0), form: 'value' }
          // Act
          const outcome = await outcomeOf(() =>
            readSeed(origin, { LAMBDA_TASK_ROOT: empty }, seed, [{ field: null, transform: null }]),
          )
          // Assess
          expect(outcome.ok).toBe(true)
          const result = (outcome as { value: Awaited<ReturnType<typeof readSeed>> }).value
          expect(result.ok).toBe(false)
          if (!result.ok) {
            const codes = origin === 'file:' ? ['INVALID_OPTIONS'] : ['MISSING_VARIABLE']
            const error = expectLibraryError(result.error, codes)
            expect(error.variable).toBe(origin)
          }
        }),
        params(),
      )
    },
    TEST_TIMEOUT_MS,
  )
})
