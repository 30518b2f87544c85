// Fuzzing of encrypted env values through the decrypt core that all three faces share
// (middleware, loadSecrets, provider): raw KMS blobs, `kse1:` envelopes and bundles,
// intact or damaged, read as `VAR` or `VAR#field` with any transform. Every input
// gives the right plaintext or a KmsSecretsError; never another error, a hang or a
// wrong plaintext; one Decrypt at most per variable, none for text that cannot be a
// ciphertext.
import { DecryptCommand } from '@aws-sdk/client-kms'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fakeKmsEachTest } from '../unit/fake-kms.ts'
import { params, strictBase64, TEST_TIMEOUT_MS, trickyString } from './fuzz.ts'
import {
  checkOutcome,
  encryptSeed,
  isIntact,
  mutate,
  mutationArb,
  type Read,
  readSeed,
  readsArb,
  type Seed,
  seedArb,
} from './values.ts'

const fake = fakeKmsEachTest()

/** Reads `VAR` (and its fields) as fetchData would, through the decrypt core. */
const readEnv = (text: string, seed: Seed, reads: Read[]) =>
  readSeed('VAR', { VAR: text }, seed, reads)

/** Text that cannot be a ciphertext: neither strict base64 nor `kse1:` + strict base64. */
const cannotBeCiphertext = (text: string) => {
  const trimmed = text.trim()
  const body = trimmed.startsWith('kse1:') ? trimmed.slice(5) : trimmed
  return strictBase64(body) === undefined
}

describe('encrypted env values', () => {
  it(
    'intact or damaged values: the right plaintext, or a KmsSecretsError',
    async () => {
      await fc.assert(
        fc.asyncProperty(seedArb, mutationArb, readsArb, async (raw, mutation, reads) => {
          // Prepare
          const { seed, text: encrypted } = await encryptSeed(raw)
          const text = mutate(encrypted, mutation)
          fake.kms.resetHistory()
          // Act
          const outcome = await readEnv(text, seed, reads)
          // Assess
          checkOutcome(outcome, seed, reads, isIntact(mutation), text, 'VAR')
          const decrypts = fake.kms.commandCalls(DecryptCommand).length
          expect(decrypts).toBeLessThanOrEqual(1)
          if (cannotBeCiphertext(text)) expect(decrypts).toBe(0)
        }),
        params(),
      )
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'arbitrary text: a KmsSecretsError before any KMS call, or KMS refuses it',
    async () => {
      const anyText = fc.oneof(
        trickyString,
        trickyString.map((text) => `kse1:${text}`),
        fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b).toString('base64')),
        fc.uint8Array({ maxLength: 400 }).map((b) => `kse1:${Buffer.from(b).toString('base64')}`),
        fc
          .tuple(fc.nat({ max: 99 }), fc.uint8Array({ maxLength: 40 }))
          .map(([v, b]) => `kse${v}:${Buffer.from(b).toString('base64')}`),
      )
      await fc.assert(
        fc.asyncProperty(anyText, readsArb, async (text, reads) => {
          // Prepare: nothing was ever encrypted to these bytes
          const seed: Seed = { plaintext: Buffer.alloc(0), form: 'value' }
          fake.kms.resetHistory()
          // Act
          const outcome = await readEnv(text, seed, reads)
          // Assess
          expect(outcome.ok).toBe(false)
          checkOutcome(outcome, seed, reads, false, text, 'VAR')
          if (cannotBeCiphertext(text)) {
            expect(fake.kms.commandCalls(DecryptCommand)).toHaveLength(0)
          }
        }),
        params(),
      )
    },
    TEST_TIMEOUT_MS,
  )
})
