import { describe, expect, it } from 'vitest'
import {
  decodeBase64,
  ENVELOPE_PREFIX,
  EnvelopeKind,
  MAX_KMS_BLOB_BYTES,
  openEnvelope,
  parseEnvelope,
  sealEnvelope,
} from '../../src/core/envelope.ts'
import { KmsSecretsError } from '../../src/core/errors.ts'

const dataKey = new Uint8Array(32).fill(7)
const encryptedKey = Buffer.from('an encrypted data key')
const context = { LambdaFunctionName: 'fn' }

const body = (kind: number, keyLength: number, rest: number) => {
  const header = Buffer.alloc(3)
  header.writeUInt8(kind, 0)
  header.writeUInt16BE(keyLength, 1)
  return `${ENVELOPE_PREFIX}${Buffer.concat([header, Buffer.alloc(rest)]).toString('base64')}`
}

const errorOf = (fn: () => unknown): KmsSecretsError => {
  try {
    fn()
  } catch (error) {
    return error as KmsSecretsError
  }
  throw new Error('did not throw')
}

describe('decodeBase64', () => {
  it('decodes strict base64', () => {
    // Act
    const bytes = decodeBase64(Buffer.from('hello').toString('base64'), 'VAR')
    // Assess
    expect(bytes.toString()).toBe('hello')
  })

  it.each([
    ['', 'VAR: value is empty'],
    ['abc', 'VAR: value is not valid base64 (truncated or altered?)'],
    ['ab!d', 'VAR: value is not valid base64 (truncated or altered?)'],
    ['kse1:AAAA', 'VAR: value is not valid base64 (truncated or altered?)'],
    ['ab=c', 'VAR: value is not valid base64 (truncated or altered?)'],
  ])('rejects %j as MALFORMED_VALUE', (text, message) => {
    // Act
    const error = errorOf(() => decodeBase64(text, 'VAR'))
    // Assess
    expect(error).toBeInstanceOf(KmsSecretsError)
    expect(error.code).toBe('MALFORMED_VALUE')
    expect(error.message).toBe(message)
  })

  it('names an envelope version it does not know, as the versioning rule says', () => {
    // Act
    const error = errorOf(() => decodeBase64('kse2:AAAA', 'VAR'))
    // Assess
    expect(error.code).toBe('MALFORMED_VALUE')
    expect(error.message).toBe(
      'VAR: envelope format kse2: is not supported by this version of middy-kms-secrets (upgrade it)',
    )
  })
})

describe('parseEnvelope', () => {
  it.each([
    ['kind 0', body(0, 1, 1 + 12 + 16)],
    ['kind 3 (unknown)', body(3, 1, 1 + 12 + 16)],
    ['an empty encrypted key', body(1, 0, 12 + 16)],
    ['an encrypted key over 6144 bytes', body(1, MAX_KMS_BLOB_BYTES + 1, 6200 + 12 + 16)],
    ['a body one byte short of IV and tag', body(2, 4, 4 + 12 + 15)],
    ['a body shorter than its header', `${ENVELOPE_PREFIX}AQA=`],
  ])('rejects %s as MALFORMED_VALUE', (_, text) => {
    // Act
    const error = errorOf(() => parseEnvelope(text, 'VAR'))
    // Assess
    expect(error.code).toBe('MALFORMED_VALUE')
    expect(error.message).toBe('VAR: envelope is truncated or malformed')
  })

  it('accepts the smallest valid layout (empty ciphertext) and the largest key length', () => {
    // Act
    const small = parseEnvelope(body(1, 1, 1 + 12 + 16), 'VAR')
    const large = parseEnvelope(body(2, MAX_KMS_BLOB_BYTES, MAX_KMS_BLOB_BYTES + 28), 'VAR')
    // Assess
    expect(small.ciphertext.length).toBe(0)
    expect(small.kind).toBe(EnvelopeKind.Value)
    expect(large.encryptedKey.length).toBe(MAX_KMS_BLOB_BYTES)
    expect(large.kind).toBe(EnvelopeKind.Bundle)
  })
})

describe('sealEnvelope / openEnvelope', () => {
  it('uses a fresh random IV for every envelope', () => {
    // Prepare
    const request = {
      kind: EnvelopeKind.Value,
      plaintext: Buffer.from('same'),
      dataKey,
      encryptedKey,
      context,
    }
    // Act
    const first = parseEnvelope(sealEnvelope(request), 'VAR')
    const second = parseEnvelope(sealEnvelope(request), 'VAR')
    // Assess
    expect(Buffer.from(first.iv).equals(Buffer.from(second.iv))).toBe(false)
    expect(openEnvelope(first, dataKey, context, 'VAR').toString()).toBe('same')
    expect(openEnvelope(second, dataKey, context, 'VAR').toString()).toBe('same')
  })

  it('a wrong data key fails as TAMPERED and says nothing of the value', () => {
    // Prepare
    const text = sealEnvelope({
      kind: EnvelopeKind.Value,
      plaintext: Buffer.from('hush'),
      dataKey,
      encryptedKey,
      context,
    })
    // Act
    const error = errorOf(() =>
      openEnvelope(parseEnvelope(text, 'VAR'), new Uint8Array(32), context, 'VAR'),
    )
    // Assess
    expect(error.code).toBe('TAMPERED')
    expect(error.message).not.toContain('hush')
    expect(error.message).not.toContain(text.slice(5, 30))
  })

  it('switching the kind byte is detected: the kind is authenticated', () => {
    // Prepare
    const text = sealEnvelope({
      kind: EnvelopeKind.Bundle,
      plaintext: Buffer.from('{}'),
      dataKey,
      encryptedKey,
      context,
    })
    const raw = Buffer.from(text.slice(ENVELOPE_PREFIX.length), 'base64')
    raw[0] = EnvelopeKind.Value
    const switched = ENVELOPE_PREFIX + raw.toString('base64')
    // Act
    const error = errorOf(() =>
      openEnvelope(parseEnvelope(switched, 'VAR'), dataKey, context, 'VAR'),
    )
    // Assess
    expect(error.code).toBe('TAMPERED')
  })
})
