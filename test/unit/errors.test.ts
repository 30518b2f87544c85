import { createServer } from 'node:net'
import { constants } from 'node:os'
import { KMSClient, DecryptCommand as SdkDecryptCommand } from '@aws-sdk/client-kms'
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { kmsDecrypt } from '../../src/core/decrypt.ts'
import {
  CredentialsError,
  ErrorCode,
  fromKmsError,
  isTransient,
  KmsSecretsError,
} from '../../src/core/errors.ts'
import type { KmsClientConfig, KmsKit } from '../../src/core/kms.ts'
import { DecryptCommand as LiteDecryptCommand, LiteKmsClient } from '../../src/core/lite-client.ts'
import { TEST_CREDENTIALS } from '../support/aws.ts'

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

  it("keeps the message of LiteKmsClient's credentials error (ACCESS_DENIED), not of another", () => {
    // Act
    const lite = fromKmsError(new CredentialsError('AWS_X is not set'), 'Y')
    const sdk = fromKmsError(awsError('CredentialsProviderError'), 'Y')

    // Assess
    expect(lite.toJSON()).toEqual({
      name: 'KmsSecretsError',
      code: 'ACCESS_DENIED',
      message: 'Y: AWS_X is not set',
      variable: 'Y',
      kmsError: 'CredentialsProviderError',
      requestId: undefined,
    })
    expect(sdk.message).not.toContain('raw message')
  })

  it.each([
    ['LiteKmsClient sets', { host: 'kms.eu-west-1.amazonaws.com' }, 'kms.eu-west-1.amazonaws.com'],
    ['a DNS failure has', { hostname: 'kms.example' }, 'kms.example'],
    ['a refused connection has', { address: '10.0.0.1', port: 443 }, '10.0.0.1:443'],
    ['an address without a port has', { address: '10.0.0.1' }, '10.0.0.1'],
  ])('names the host a NETWORK error %s', (_, fields, host) => {
    // Act
    const mapped = fromKmsError(
      Object.assign(new Error('x'), { code: 'ECONNREFUSED', ...fields }),
      'V',
    )

    // Assess
    expect(mapped.message).toBe(`V: could not reach KMS at ${host} (ECONNREFUSED)`)
  })

  it('names no host where the address is not text', () => {
    // Act
    const mapped = fromKmsError(
      Object.assign(new Error('x'), { code: 'ECONNREFUSED', address: 7, port: 443 }),
      'V',
    )

    // Assess
    expect(mapped.message).toBe('V: could not reach KMS (ECONNREFUSED)')
  })
})

// Both kits as the entries wire them: the SDK's KMSClient (src/index.ts) and LiteKmsClient.
const kits: [string, KmsKit][] = [
  ['the SDK', { AwsClient: KMSClient, DecryptCommand: SdkDecryptCommand }],
  ['/lite', { AwsClient: LiteKmsClient, DecryptCommand: LiteDecryptCommand }],
]

/** One Decrypt through the core, as a round sends it; its KmsSecretsError. */
const decryptFailure = (kit: KmsKit, config: KmsClientConfig) =>
  kmsDecrypt({
    client: new kit.AwsClient({ credentials: TEST_CREDENTIALS, maxAttempts: 1, ...config }),
    DecryptCommand: kit.DecryptCommand,
    blob: new Uint8Array(64),
    encryptionContext: {},
    keyId: undefined,
    abortSignal: new AbortController().signal,
    variable: 'API_TOKEN',
  }).then(
    () => {
      throw new Error('expected a failure')
    },
    (error: unknown) => error as KmsSecretsError,
  )

/** A port of 127.0.0.1 that nothing listens on (it just did, and was closed). */
const closedPort = async (): Promise<number> => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe.each(kits)('the cause of a failure, on %s', (_, kit) => {
  it('names AWS_REGION when no region is set', async () => {
    // Prepare: a loopback endpoint, so that nothing could leave even with a region
    const endpoint = `http://127.0.0.1:${await closedPort()}`
    vi.stubEnv('AWS_REGION', undefined)
    vi.stubEnv('AWS_DEFAULT_REGION', undefined)
    vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent') // nor a profile's region

    // Act
    const failure = await decryptFailure(kit, { endpoint })
    vi.unstubAllEnvs()

    // Assess
    expect(failure).toBeInstanceOf(KmsSecretsError)
    expect(failure.code).toBe('MISSING_VARIABLE')
    expect(failure.message).toMatch(/^API_TOKEN: no AWS region for KMS: AWS_REGION is not set/)
  })

  it('names the Node code and the endpoint host when KMS cannot be reached', async () => {
    // Prepare
    const port = await closedPort()

    // Act
    const failure = await decryptFailure(kit, {
      region: 'eu-west-1',
      endpoint: `http://127.0.0.1:${port}`,
    })

    // Assess
    expect(failure).toMatchObject({
      code: 'NETWORK',
      message: `API_TOKEN: could not reach KMS at 127.0.0.1:${port} (ECONNREFUSED)`,
    })
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
