// Generators and the oracle for encrypted values (raw KMS blobs, envelopes, bundles),
// shared by the env-var and secrets-file fuzz tests.
//
// A seed is a real value, encrypted through the library's own encrypt side against the
// KMS double of the tests (ciphertexts bound to their context, like KMS); a
// mutation then damages it, or not. The oracle knows what the seed must decrypt to, so
// any success must give exactly that: a damaged value may fail, never open to
// something else.
import { KMSClient } from '@aws-sdk/client-kms'
import fc from 'fast-check'
import { expect } from 'vitest'
import { EnvelopeKind, encryptValue, sealWithKms } from '../../cli/src/encrypt.ts'
import type { Transform } from '../../src/core/decrypt.ts'
import { ENVELOPE_PREFIX } from '../../src/core/envelope.ts'
import { expectNoSecrets } from '../support/no-leak.ts'
import { decryptRound, KEY_ID } from '../unit/fake-kms.ts'
import {
  expectLibraryError,
  type Outcome,
  outcomeOf,
  strictBase64,
  trickyString,
  trickyText,
} from './fuzz.ts'

export const CONTEXT = { LambdaFunctionName: 'fuzz-fn' }

export type Form = 'raw' | 'value' | 'bundle'

export interface Seed {
  plaintext: Buffer
  form: Form
}

const utf8 = (text: string) => Buffer.from(text, 'utf8')
const fieldName = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
  fc.constantFrom('A', 'DB_PASSWORD', '__proto__', 'constructor', 'toString', 'a#b', ' ', ''),
)
const base64Of = fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b).toString('base64'))

/** A bundle's plaintext: a JSON object of strings (some of them base64, for 'binary'). */
const bundleArb = fc
  .dictionary(fieldName, fc.oneof(trickyString, base64Of), { minKeys: 1, maxKeys: 6 })
  .map((fields) => utf8(JSON.stringify(fields)))

/** Plaintexts: bytes, text, JSON objects of strings (bundles), other JSON, near-JSON. */
export const plaintextArb: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  trickyString.map(utf8),
  bundleArb,
  fc.jsonValue({ maxDepth: 2 }).map((value) => utf8(JSON.stringify(value) ?? 'null')),
  fc
    .tuple(fc.constantFrom('\uFEFF', ' ', '{', '[', '"'), trickyString)
    .map(([head, tail]) => utf8(head + tail)),
)

export const seedArb: fc.Arbitrary<Seed> = fc.oneof(
  fc.record({ plaintext: plaintextArb, form: fc.constantFrom<Form>('raw', 'value', 'bundle') }),
  fc.record({ plaintext: bundleArb, form: fc.constant<Form>('bundle') }),
)

/** Encrypts a seed through the library (KMS double); raw blobs hold 1 to 4096 bytes. */
export const encryptSeed = async (seed: Seed): Promise<{ seed: Seed; text: string }> => {
  const client = new KMSClient({ region: 'us-east-1' })
  const request = { client, keyId: KEY_ID, context: CONTEXT, plaintext: seed.plaintext }
  if (seed.form === 'raw' && seed.plaintext.length > 0) {
    return { seed, text: await encryptValue(request) }
  }
  const form = seed.form === 'bundle' ? 'bundle' : 'value'
  const kind = form === 'bundle' ? EnvelopeKind.Bundle : EnvelopeKind.Value
  return { seed: { ...seed, form }, text: await sealWithKms({ ...request, kind }) }
}

export type Mutation =
  | { type: 'none' }
  | { type: 'pad'; left: string; right: string }
  | { type: 'flip'; bit: number }
  | { type: 'cut'; at: number }
  | { type: 'char'; at: number; char: string }
  | { type: 'insert'; at: number; text: string }
  | { type: 'prefix'; prefix: string }
  | { type: 'urlsafe' }
  | { type: 'twice' }
  | { type: 'garbage'; text: string }

const blank = fc
  .array(fc.constantFrom(' ', '\t', '\n', '\r\n', '\u00a0', '\uFEFF', '\u2028'), { maxLength: 3 })
  .map((parts) => parts.join(''))

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ type: 'none' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant('pad' as const), left: blank, right: blank }),
  },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('flip' as const), bit: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('cut' as const), at: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('char' as const),
      at: fc.nat(),
      char: fc.constantFrom(...'AZaz09+/=:-_ #\n\u00e9'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('insert' as const), at: fc.nat(), text: trickyText }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('prefix' as const),
      prefix: fc.constantFrom('', 'kse1:', 'kse2:', 'KSE1:', 'kse1:kse1:', 'kse:', 'kse01:'),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ type: 'urlsafe' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'twice' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('garbage' as const), text: trickyString }),
  },
)

/** Whether the value still reads the same: trim() removes exactly this padding. */
export const isIntact = (mutation: Mutation) => mutation.type === 'none' || mutation.type === 'pad'

export const mutate = (text: string, mutation: Mutation): string => {
  const at = (n: number) => n % (text.length + 1)
  switch (mutation.type) {
    case 'none':
      return text
    case 'pad':
      return mutation.left + text + mutation.right
    case 'flip': {
      const envelope = text.startsWith(ENVELOPE_PREFIX)
      const body = Buffer.from(envelope ? text.slice(ENVELOPE_PREFIX.length) : text, 'base64')
      const bit = mutation.bit % (body.length * 8)
      body.writeUInt8(body.readUInt8(bit >> 3) ^ (1 << (bit & 7)), bit >> 3)
      return (envelope ? ENVELOPE_PREFIX : '') + body.toString('base64')
    }
    case 'cut':
      return text.slice(0, mutation.at % text.length)
    case 'char': {
      const i = mutation.at % text.length
      return text.slice(0, i) + mutation.char + text.slice(i + 1)
    }
    case 'insert':
      return text.slice(0, at(mutation.at)) + mutation.text + text.slice(at(mutation.at))
    case 'prefix':
      return mutation.prefix + (text.startsWith('kse1:') ? text.slice(5) : text)
    case 'urlsafe':
      return text.replace(/\+/g, '-').replace(/\//g, '_')
    case 'twice':
      return text + text
    case 'garbage':
      return mutation.text
  }
}

/** How a value is read: `VAR` or `VAR#field`, with a transform. */
export interface Read {
  field: { known: number } | { name: string } | null
  transform: Transform | null
}

export const readsArb: fc.Arbitrary<Read[]> = fc.array(
  fc.record({
    field: fc.oneof(
      fc.constant(null),
      fc.record({ known: fc.nat() }),
      fc.record({ known: fc.nat() }),
      fc.record({ name: trickyString.filter((name) => name !== '') }),
    ),
    transform: fc.oneof(
      fc.constant(null),
      fc.constant(null),
      fc.constantFrom<Transform>('json', 'binary'),
    ),
  }),
  { minLength: 1, maxLength: 3 },
)

/** Exact UTF-8 (no replacement characters, a leading BOM kept). */
const textOf = (bytes: Buffer): string | undefined => {
  const text = bytes.toString('utf8')
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined
}

const jsonOf = (text: string): { value: unknown } | undefined => {
  try {
    return { value: JSON.parse(text) as unknown }
  } catch {
    return undefined
  }
}

/** The bundle's fields, when the plaintext is a UTF-8 JSON object of strings. */
export const bundleFields = (plaintext: Buffer): Record<string, string> | undefined => {
  const text = textOf(plaintext)
  const parsed = text === undefined ? undefined : jsonOf(text)?.value
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined
  return Object.values(parsed).every((v) => typeof v === 'string')
    ? (parsed as Record<string, string>)
    : undefined
}

/**
 * The field name a read asks for (a known one picks among the bundle's own keys). The empty
 * key is data no source can name (`VAR#` is an invalid option, see sources.fuzz): getMultiple
 * reads it, a field read never asks for it.
 */
export const fieldOf = (read: Read, plaintext: Buffer): string | undefined => {
  if (read.field === null) return undefined
  if ('name' in read.field) return read.field.name
  const keys = Object.keys(bundleFields(plaintext) ?? {}).filter((key) => key !== '')
  return keys.length === 0 ? undefined : keys[read.field.known % keys.length]
}

/** Reads `origin` (and its fields) as fetchData would, through the decrypt core. */
export const readSeed = (
  origin: string,
  env: Record<string, string>,
  seed: Seed,
  reads: Read[],
): Promise<Outcome<unknown[]>> =>
  outcomeOf(async () => {
    const values = await decryptRound(
      env,
      reads.map((read, i) => {
        const field = fieldOf(read, seed.plaintext)
        const source = field === undefined ? origin : `${origin}#${field}`
        return [`k${i}`, source, read.transform ?? undefined]
      }),
      CONTEXT,
    )
    return reads.map((_, i) => values[`k${i}`])
  })

export type Expected = { ok: true; value: unknown } | { ok: false; code: string }

const malformed: Expected = { ok: false, code: 'MALFORMED_VALUE' }

/** The contract, restated: what one read of an intact seed gives. */
const expectedRead = (
  seed: Seed,
  field: string | undefined,
  transform: Transform | null,
): Expected => {
  const asText = (text: string): Expected => {
    if (transform === 'binary') {
      const bytes = strictBase64(text)
      return bytes === undefined ? malformed : { ok: true, value: Uint8Array.from(bytes) }
    }
    if (transform !== 'json') return { ok: true, value: text }
    const json = jsonOf(text)
    return json === undefined ? malformed : { ok: true, value: json.value }
  }
  if (field === undefined) {
    if (transform === 'binary') return { ok: true, value: Uint8Array.from(seed.plaintext) }
    const text = textOf(seed.plaintext)
    return text === undefined ? malformed : asText(text)
  }
  if (seed.form !== 'bundle') return malformed
  const fields = bundleFields(seed.plaintext)
  if (fields === undefined) return malformed
  if (!Object.hasOwn(fields, field)) return { ok: false, code: 'MISSING_VARIABLE' } as Expected
  return asText(fields[field] as string)
}

/** What the reads of an intact seed give: every value, or the first read's error. */
export const expectedOf = (seed: Seed, reads: Read[]): Expected => {
  const values: unknown[] = []
  for (const read of reads) {
    const one = expectedRead(seed, fieldOf(read, seed.plaintext), read.transform)
    if (!one.ok) return one
    values.push(one.value)
  }
  return { ok: true, value: values }
}

/** Codes a damaged value may fail with (KMS refuses an unknown blob: CONTEXT_MISMATCH). */
export const DAMAGED_CODES = ['MALFORMED_VALUE', 'TAMPERED', 'CONTEXT_MISMATCH', 'MISSING_VARIABLE']

/**
 * The whole property for one outcome: intact values give exactly the expected result;
 * damaged ones fail with a library error or open to the very same result; errors name
 * the source and hold neither the plaintext nor the ciphertext.
 */
export const checkOutcome = (
  outcome: Outcome<unknown[]>,
  seed: Seed,
  reads: Read[],
  intact: boolean,
  text: string,
  variable: string,
) => {
  const expected = expectedOf(seed, reads)
  if (outcome.ok) {
    // Any value that comes out is the right one, even from a damaged input.
    expect(expected.ok).toBe(true)
    expect(outcome.value).toEqual((expected as { value: unknown }).value)
    return
  }
  const codes = intact ? [expected.ok ? 'none' : expected.code] : DAMAGED_CODES
  const error = expectLibraryError(outcome.error, codes)
  // The source, or for a field's transform the source and the field.
  expect(error.variable === variable || error.variable?.startsWith(`${variable}#`)).toBe(true)
  const shown = `${error.message}\n${JSON.stringify(error)}\n${String(error.stack)}`
  if (seed.plaintext.length >= 8) expectNoSecrets(shown, [seed.plaintext])
  const payload = text.trim().replace(/^kse\d*:/, '')
  if (payload.length >= 16) expect(shown).not.toContain(payload)
}
