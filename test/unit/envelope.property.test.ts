// Property tests of envelope v1 through the whole decrypt path (decryptSecrets with a
// KMS double): round trips of 0 B … 1 MiB under arbitrary contexts, and every
// alteration (bit flip, truncation, other context) ends in a KmsSecretsError, never in
// a wrong plaintext.
import { DecryptCommand } from '@aws-sdk/client-kms'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ENVELOPE_PREFIX, EnvelopeKind, parseEnvelope } from '../../src/core/envelope.ts'
import { KmsSecretsError } from '../../src/core/errors.ts'
import { decryptRound, fakeKmsEachTest, KEY_ARN } from './fake-kms.ts'

type Context = Record<string, string>

const canonical = (context: Context) =>
  JSON.stringify(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : 1)))

const fake = fakeKmsEachTest()

/** An envelope as the CLI makes it: a fresh data key and KMS blob per envelope. */
const seal = (plaintext: Uint8Array, context: Context, kind: EnvelopeKind = EnvelopeKind.Value) =>
  fake.envelope(plaintext, kind, context)

/** Through the whole decrypt path; `text` = the library's default UTF-8 string transform. */
const open = async (
  text: string,
  context: Context,
  sources: string[] = ['VAR'],
  as: 'binary' | 'text' = 'binary',
) =>
  decryptRound(
    { VAR: text },
    sources.map((source, i) => [`k${i}`, source, as === 'binary' ? 'binary' : undefined]),
    context,
    { timeoutMs: 10_000 },
  )

/**
 * KMS hands out the data key whatever the context asked for: an attacker who holds the
 * data key anyway, so only the local AAD check is left.
 */
const ignoreContext = (sealedUnder: Context) =>
  fake.kms.on(DecryptCommand).callsFake(async (input: DecryptCommand['input']) => ({
    Plaintext: fake.plaintextOf(
      Buffer.from(input.CiphertextBlob ?? []).toString('base64'),
      sealedUnder,
    ),
    KeyId: KEY_ARN,
  }))

const rejection = async (promise: Promise<unknown>): Promise<KmsSecretsError> => {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )
  if (!('error' in outcome)) throw new Error('opened an altered envelope')
  expect(outcome.error).toBeInstanceOf(KmsSecretsError)
  return outcome.error as KmsSecretsError
}

/** Deterministic bytes of any size, without a slow fast-check array of 1 MiB. */
const bytesOf = (size: number, seed: number) => {
  const out = Buffer.alloc(size)
  let x = seed | 1
  for (let i = 0; i < size; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

const text = fc.string({ unit: 'binary', maxLength: 24 })
const contextArb = fc.dictionary(fc.string({ unit: 'binary', minLength: 1, maxLength: 24 }), text, {
  maxKeys: 6,
})

const bodyOf = (envelope: string) => Buffer.from(envelope.slice(ENVELOPE_PREFIX.length), 'base64')
const textOf = (body: Buffer) => ENVELOPE_PREFIX + body.toString('base64')
const flipBit = (body: Buffer, bit: number) => {
  const flipped = Buffer.from(body)
  flipped.writeUInt8(flipped.readUInt8(bit >> 3) ^ (1 << (bit & 7)), bit >> 3)
  return flipped
}

describe('round trip through decryptSecrets', () => {
  it('any plaintext up to 8 KiB under any context opens to the same bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 8192 }),
        contextArb,
        async (plaintext, context) => {
          // Prepare
          const envelope = seal(plaintext, context)
          // Act
          const values = await open(envelope, context)
          // Assess
          expect(Buffer.from(values.k0 as Uint8Array).equals(Buffer.from(plaintext))).toBe(true)
        },
      ),
      { numRuns: 150 },
    )
  })

  it.each([0, 1, 4095, 4096, 4097, 65_536, 1_048_576])('%i bytes', async (size) => {
    // Prepare
    const plaintext = bytesOf(size, size + 7)
    const context = { LambdaFunctionName: 'stack-fn', EnvironmentVariableName: 'CERT' }
    const envelope = seal(plaintext, context)
    // Act
    const values = await open(envelope, context)
    // Assess
    expect(Buffer.from(values.k0 as Uint8Array).equals(plaintext)).toBe(true)
    expect(fake.decryptCalls()).toBe(1)
  })

  it('any size up to 1 MiB (a few runs: big envelopes are slow to shrink)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1_048_576 }), fc.integer(), async (size, seed) => {
        // Prepare
        const plaintext = bytesOf(size, seed)
        const envelope = seal(plaintext, { LambdaFunctionName: 'fn' })
        // Act
        const values = await open(envelope, { LambdaFunctionName: 'fn' })
        // Assess
        expect(Buffer.from(values.k0 as Uint8Array).equals(plaintext)).toBe(true)
      }),
      { numRuns: 6 },
    )
  })

  it('UTF-8 text opens as the same string', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        contextArb,
        async (secret, context) => {
          // Prepare
          const envelope = seal(Buffer.from(secret, 'utf8'), context)
          // Act
          const values = await open(envelope, context, ['VAR'], 'text')
          // Assess
          expect(values.k0).toBe(secret)
        },
      ),
      { numRuns: 100 },
    )
  })

  it('a bundle hands out every field, with one Decrypt for all of them', async () => {
    const fieldName = fc
      .string({ minLength: 1, maxLength: 16 })
      .filter((name) => name !== '__proto__')
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fieldName, fc.string({ unit: 'grapheme', maxLength: 64 }), {
          minKeys: 1,
          maxKeys: 25,
        }),
        contextArb,
        async (fields, context) => {
          // Prepare
          fake.kms.resetHistory()
          const names = Object.keys(fields)
          const envelope = seal(Buffer.from(JSON.stringify(fields)), context, EnvelopeKind.Bundle)
          // Act
          const values = await open(
            envelope,
            context,
            names.map((name) => `VAR#${name}`),
            'text',
          )
          // Assess
          expect(Object.values(values)).toEqual(Object.values(fields))
          expect(fake.decryptCalls()).toBe(1)
        },
      ),
      { numRuns: 100 },
    )
  })

  it('a field the bundle lacks is MISSING_VARIABLE; a field of a plain value is MALFORMED_VALUE', async () => {
    // Prepare
    const context = { LambdaFunctionName: 'fn' }
    const bundle = seal(Buffer.from('{"A":"1"}'), context, EnvelopeKind.Bundle)
    const value = seal(Buffer.from('{"A":"1"}'), context, EnvelopeKind.Value)
    // Act
    const missing = await rejection(open(bundle, context, ['VAR#B'], 'text'))
    const notBundle = await rejection(open(value, context, ['VAR#A'], 'text'))
    // Assess
    expect(missing.code).toBe('MISSING_VARIABLE')
    expect(notBundle.code).toBe('MALFORMED_VALUE')
  })

  // Names inherited from Object.prototype ("constructor", "toString", ...) are not fields.
  it('a field named like an Object.prototype member is MISSING_VARIABLE too', async () => {
    // Prepare
    const context = { LambdaFunctionName: 'fn' }
    const bundle = seal(Buffer.from('{"A":"1"}'), context, EnvelopeKind.Bundle)
    // Act
    const error = await rejection(open(bundle, context, ['VAR#constructor'], 'text'))
    // Assess
    expect(error.code).toBe('MISSING_VARIABLE')
  })
})

describe('alterations never open', () => {
  const context = { LambdaFunctionName: 'stack-secure-fetch', EnvironmentVariableName: 'SECRETS' }
  const keyStart = 3

  it.each([
    ['value', EnvelopeKind.Value, Buffer.from('tok_live_0123456789')],
    ['bundle', EnvelopeKind.Bundle, Buffer.from('{"A":"1","B":"pässwörd€"}')],
  ])('every single-bit flip of a %s body (exhaustive)', async (_, kind, plaintext) => {
    // Prepare
    const envelope = seal(plaintext, context, kind)
    const body = bodyOf(envelope)
    const keyEnd = keyStart + parseEnvelope(envelope, 'V').encryptedKey.length
    const codes = new Map<string, Set<string>>()
    // Act
    for (let bit = 0; bit < body.length * 8; bit++) {
      const error = await rejection(open(textOf(flipBit(body, bit)), context))
      const byte = bit >> 3
      const region =
        byte === 0 ? 'kind' : byte < keyStart ? 'length' : byte < keyEnd ? 'key' : 'sealed'
      const seen = codes.get(region) ?? new Set()
      seen.add(error.code)
      codes.set(region, seen)
    }
    // Assess: no single-bit flip turns kind 1 into 2 or back (the swap is tested below);
    // a changed key blob is refused by KMS; anything after it by the GCM tag.
    expect(codes.get('kind')).toEqual(new Set(['MALFORMED_VALUE']))
    expect(
      [...(codes.get('length') ?? [])].every((code) =>
        ['MALFORMED_VALUE', 'CONTEXT_MISMATCH'].includes(code),
      ),
    ).toBe(true)
    expect(codes.get('length')?.size).toBeGreaterThan(0)
    expect(codes.get('key')).toEqual(new Set(['CONTEXT_MISMATCH']))
    expect(codes.get('sealed')).toEqual(new Set(['TAMPERED']))
  })

  it('a random bit flip of a random envelope never opens', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 2048 }),
        contextArb,
        fc.nat(),
        async (plaintext, ctx, n) => {
          // Prepare
          const body = bodyOf(seal(plaintext, ctx))
          const flipped = flipBit(body, n % (body.length * 8))
          // Act
          const error = await rejection(open(textOf(flipped), ctx))
          // Assess
          expect(['TAMPERED', 'MALFORMED_VALUE', 'CONTEXT_MISMATCH']).toContain(error.code)
        },
      ),
      { numRuns: 300 },
    )
  })

  it.each([
    ['value', EnvelopeKind.Value, Buffer.from('tok_live_0123456789')],
    ['bundle', EnvelopeKind.Bundle, Buffer.from('{"A":"1","B":"2"}')],
  ])('every truncation of a %s text (exhaustive) never opens', async (_, kind, plaintext) => {
    // Prepare
    const envelope = seal(plaintext, context, kind)
    const codes = new Set<string>()
    // Act
    for (let length = 0; length < envelope.length; length++) {
      const { code } = await rejection(open(envelope.slice(0, length), context))
      // "kse1" alone is valid base64: read as a raw blob, too short for a KMS ciphertext.
      codes.add(length === 4 ? `kse1:${code}` : code)
    }
    // Assess
    expect(codes).toEqual(new Set(['MALFORMED_VALUE', 'TAMPERED', 'kse1:MALFORMED_VALUE']))
  })

  it('a truncated body (whole bytes cut off the end) never opens', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 4096 }),
        contextArb,
        fc.nat(),
        async (plaintext, ctx, n) => {
          // Prepare
          const body = bodyOf(seal(plaintext, ctx))
          const cut = body.subarray(0, n % body.length)
          // Act
          const error = await rejection(open(textOf(cut), ctx))
          // Assess
          expect(['TAMPERED', 'MALFORMED_VALUE']).toContain(error.code)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('any character replaced in the text: an error, or (unused base64 bits) the same plaintext', async () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=:-_ '
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 512 }),
        fc.nat(),
        fc.constantFrom(...alphabet),
        async (plaintext, n, replacement) => {
          // Prepare
          const envelope = seal(plaintext, context)
          const at = n % envelope.length
          fc.pre(envelope[at] !== replacement)
          const altered = envelope.slice(0, at) + replacement + envelope.slice(at + 1)
          // Act
          const outcome = await open(altered, context).then(
            (values) => ({ opened: values.k0 as Uint8Array }),
            (error: unknown) => ({ error }),
          )
          // Assess
          if ('opened' in outcome) {
            expect(Buffer.from(outcome.opened).equals(Buffer.from(plaintext))).toBe(true)
          } else {
            expect(outcome.error).toBeInstanceOf(KmsSecretsError)
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it.each([
    ['KMS refuses the data key', 'CONTEXT_MISMATCH', false],
    ['with the data key in hand, the AAD still refuses it', 'TAMPERED', true],
  ])('another context: %s (%s)', async (_, code, dataKeyInHand) => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 256 }),
        contextArb,
        contextArb,
        async (plaintext, a, b) => {
          fc.pre(canonical(a) !== canonical(b))
          // Prepare
          const envelope = seal(plaintext, a)
          if (dataKeyInHand) ignoreContext(a)
          // Act
          const error = await rejection(open(envelope, b))
          // Assess
          expect(error.code).toBe(code)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('an envelope moved into a bundle slot or back is refused (kind bound in the AAD)', async () => {
    // Prepare
    const bundleBody = bodyOf(seal(Buffer.from('{"A":"1"}'), context, EnvelopeKind.Bundle))
    bundleBody[0] = EnvelopeKind.Value
    // Act
    const error = await rejection(open(textOf(bundleBody), context))
    // Assess
    expect(error.code).toBe('TAMPERED')
  })
})
