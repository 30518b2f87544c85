import { constants } from 'node:os'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ErrorCode, fromKmsError, isTransient, KmsSecretsError } from '../../src/core/errors.ts'

const awsError = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error('raw message'), { name, ...extra })

describe('fromKmsError', () => {
  it.each([
    ['AccessDeniedException', 'ACCESS_DENIED'],
    ['InvalidCiphertextException', 'CONTEXT_MISMATCH'],
    ['IncorrectKeyException', 'KEY_MISMATCH'],
    ['NotFoundException', 'KEY_MISMATCH'],
    ['InvalidKeyUsageException', 'KEY_MISMATCH'],
    ['DisabledException', 'KEY_DISABLED'],
    ['KMSInvalidStateException', 'KEY_DISABLED'],
    ['KeyUnavailableException', 'KEY_DISABLED'],
    ['ThrottlingException', 'THROTTLED'],
    ['LimitExceededException', 'THROTTLED'],
    ['CredentialsProviderError', 'ACCESS_DENIED'],
    ['AbortError', 'TIMEOUT'],
    ['TimeoutError', 'TIMEOUT'],
  ])('maps %s to %s, naming the variable and the KMS error, with its own message', (name, code) => {
    // Prepare
    const error = awsError(name, { $metadata: { requestId: 'req-1', httpStatusCode: 400 } })

    // Act
    const mapped = fromKmsError(error, 'API_TOKEN')

    // Assess: the message, pinned by the committed snapshot (recorded from src/core/errors.ts)
    expect(mapped).toBeInstanceOf(KmsSecretsError)
    expect(mapped).toMatchObject({ code, variable: 'API_TOKEN', kmsError: name })
    expect(mapped.message.startsWith('API_TOKEN: ')).toBe(true)
    expect(mapped.message.slice('API_TOKEN: '.length)).toMatchSnapshot()
  })

  it('keeps the request id but not the AWS error itself (it can hold the raw response)', () => {
    // Prepare
    const error = awsError('ThrottlingException', {
      $metadata: { requestId: 'req-42' },
      $response: { body: 'Plaintext: c2VjcmV0' },
    })

    // Act
    const mapped = fromKmsError(error, 'API_TOKEN')

    // Assess
    expect(mapped.requestId).toBe('req-42')
    expect(mapped.cause).toBeUndefined()
    expect(JSON.stringify(mapped)).not.toContain('c2VjcmV0')
    expect(JSON.parse(JSON.stringify(mapped))).toEqual({
      name: 'KmsSecretsError',
      code: 'THROTTLED',
      message: mapped.message,
      variable: 'API_TOKEN',
      kmsError: 'ThrottlingException',
      requestId: 'req-42',
    })
  })

  it('maps the socket and DNS errors to NETWORK, and every other system error code to KMS_ERROR', () => {
    // Prepare: every errno name of this platform, and the DNS codes Node adds
    const codes = [...Object.keys(constants.errno), 'ENOTFOUND', 'EAI_AGAIN']
    const mapOf = (code: string) =>
      fromKmsError(Object.assign(new Error(`connect ${code}`), { code }), 'DB')

    // Act
    const network = codes.filter((code) => mapOf(code).code === 'NETWORK').sort()

    // Assess: which codes are NETWORK, pinned by the committed snapshot (recorded from src)
    expect(network).toMatchSnapshot()
    for (const code of codes) {
      const expected = network.includes(code)
        ? { code: 'NETWORK', message: `DB: could not reach KMS (${code})` }
        : { code: 'KMS_ERROR', message: expect.stringMatching(/^DB: KMS call failed/) }
      expect(mapOf(code)).toMatchObject({ variable: 'DB', ...expected })
    }
  })

  it.each([
    ['another system error code', { code: 'ENOENT' }],
    ['a numeric code', { code: 104 }],
    ['an error named like an Object.prototype member', { name: 'constructor' }],
    ['an error named toString', { name: 'toString' }],
  ])('maps %s to KMS_ERROR', (_, fields) => {
    // Act
    const mapped = fromKmsError(Object.assign(new Error(''), fields), 'V')
    // Assess
    expect(mapped.code).toBe('KMS_ERROR')
    expect(mapped.message).toMatch(/^V: KMS call failed/)
  })

  it('maps anything else to KMS_ERROR with what is known', () => {
    // Prepare
    const withStatus = awsError('InternalFailure', { $metadata: { httpStatusCode: 500 } })
    const withoutStatus = awsError('KMSInternalException')

    // Act
    const mappedWithStatus = fromKmsError(withStatus, 'A')
    const mappedWithoutStatus = fromKmsError(withoutStatus, 'A')
    const mappedNull = fromKmsError(null, 'A')
    const mappedString = fromKmsError({ name: 42, code: 7 }, 'A')

    // Assess
    expect(mappedWithStatus).toMatchObject({
      code: 'KMS_ERROR',
      message: 'A: KMS call failed (InternalFailure, HTTP 500)',
    })
    expect(mappedWithoutStatus.message).toBe('A: KMS call failed (KMSInternalException)')
    expect(mappedNull).toMatchObject({
      code: 'KMS_ERROR',
      message: 'A: KMS call failed',
      kmsError: undefined,
    })
    expect(mappedString).toMatchObject({ code: 'KMS_ERROR', kmsError: undefined })
  })

  it('passes a KmsSecretsError through unchanged', () => {
    // Prepare
    const original = new KmsSecretsError('TIMEOUT', 'too slow', { variable: 'X' })

    // Act
    const mapped = fromKmsError(original, 'Y')

    // Assess
    expect(mapped).toBe(original)
    expect(new KmsSecretsError('KMS_ERROR', 'no variable').message).toBe('no variable')
  })
})

describe('isTransient', () => {
  it('is true exactly for THROTTLED, TIMEOUT and NETWORK errors of the library', () => {
    // Prepare
    const transient: readonly string[] = ['THROTTLED', 'TIMEOUT', 'NETWORK']
    fc.assert(
      fc.property(fc.constantFrom(...Object.values(ErrorCode)), (code) => {
        // Act
        const answer = isTransient(new KmsSecretsError(code, 'message'))
        // Assess
        expect(answer).toBe(transient.includes(code))
      }),
    )
  })

  it('is false for anything that is not a KmsSecretsError, whatever its code', () => {
    // Prepare
    const lookalikes = [
      Object.assign(new Error('x'), { code: 'THROTTLED' }),
      { name: 'KmsSecretsError', code: 'TIMEOUT' },
      undefined,
      'NETWORK',
    ]
    // Act
    const answers = lookalikes.map(isTransient)
    // Assess
    expect(answers).toEqual([false, false, false, false])
  })
})
