// The decrypt core at its edges: limits, error details (code, variable, message), what
// is wiped, what is parsed once, and the KMS error table, each pinned exactly.
import { randomBytes } from 'node:crypto'
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { decryptSecrets, parseSource, type Transform } from '../../src/core/decrypt.ts'
import { EnvelopeKind, sealEnvelope } from '../../src/core/envelope.ts'
import { fromKmsError, KmsSecretsError } from '../../src/core/errors.ts'
import { fakeKms, KEY_ARN } from './fake-kms.ts'

const CONTEXT = { LambdaFunctionName: 'my-function' }
const client = new KMSClient({ region: 'us-east-1' })

let fake: ReturnType<typeof fakeKms>
beforeEach(() => {
  fake = fakeKms()
})
afterEach(() => {
  fake.kms.restore()
  vi.restoreAllMocks()
  vi.useRealTimers()
})

type Read = [key: string, source: string, transform?: Transform]
const round = (
  env: Record<string, string>,
  reads: Read[],
  extra: Partial<Parameters<typeof decryptSecrets>[0]> = {},
) =>
  decryptSecrets({
    wanted: reads.map(([key, source, transform]) => ({
      key,
      source: parseSource(source),
      transform,
    })),
    client,
    DecryptCommand,
    encryptionContext: CONTEXT,
    bindVariableName: false,
    keyId: undefined,
    timeoutMs: 5000,
    env,
    ...extra,
  })

const failure = async (promise: Promise<unknown>): Promise<KmsSecretsError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(KmsSecretsError)
  return error as KmsSecretsError
}

/** An envelope whose data key the fake KMS decrypts under CONTEXT. */
const envelope = (id: string, plaintext: string, kind: EnvelopeKind = EnvelopeKind.Value) => {
  const dataKey = randomBytes(32)
  const encryptedKey = Buffer.from(fake.encrypt(id, dataKey, CONTEXT), 'base64')
  return sealEnvelope({
    kind,
    plaintext: Buffer.from(plaintext),
    dataKey,
    encryptedKey,
    context: CONTEXT,
  })
}

describe('the deadline', () => {
  it('names every source of the round and aborts the calls in flight', async () => {
    // Prepare: KMS never answers
    fake.kms.on(DecryptCommand).callsFake(() => new Promise(() => {}))
    const env = { A: fake.encrypt('a', 'x'), B: fake.encrypt('b', 'y') }
    // Act
    const error = await failure(
      round(
        env,
        [
          ['a', 'A'],
          ['b', 'B#f'],
          ['c', 'A'],
        ],
        { timeoutMs: 20 },
      ),
    )
    // Assess
    expect(error).toMatchObject({ code: 'TIMEOUT', variable: 'A,B' })
    expect(error.message).toBe('A,B: decrypting took longer than the 20 ms deadline')
    const signals = fake.kms
      .commandCalls(DecryptCommand)
      .map((call) => ((call.args as unknown[])[1] as { abortSignal: AbortSignal }).abortSignal)
    expect(signals).toHaveLength(2)
    expect(signals.every((signal) => signal.aborted)).toBe(true)
  })

  it('once a call fails, starts no other (51 variables: one more than run in parallel)', async () => {
    // Prepare: the first variable is refused, the 49 others in flight succeed
    const env: Record<string, string> = {}
    const reads: Read[] = []
    for (let i = 0; i < 51; i++) {
      env[`V${i}`] = fake.encrypt(`v${i}`, `value-${i}`, i === 0 ? { Other: 'x' } : CONTEXT)
      reads.push([`v${i}`, `V${i}`])
    }
    // Act
    const error = await failure(round(env, reads))
    // Assess: the 51st variable, queued behind the first 50, never reached KMS
    expect(error).toMatchObject({ code: 'CONTEXT_MISMATCH', variable: 'V0' })
    expect(fake.decryptCalls()).toBe(50)
  })

  it('leaves no timer behind once the round is done', async () => {
    // Prepare
    vi.useFakeTimers()
    // Act
    const values = await round({ A: fake.encrypt('a', 'x') }, [['a', 'A']])
    // Assess
    expect(values).toEqual({ a: 'x' })
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('raw blobs', () => {
  it('takes a blob of exactly 6144 bytes (the KMS maximum) to KMS', async () => {
    // Prepare
    const blob = Buffer.alloc(6144, 7).toString('base64')
    // Act
    const error = await failure(round({ A: blob }, [['a', 'A']]))
    // Assess: KMS was asked, and refused it
    expect(error.code).toBe('CONTEXT_MISMATCH')
    expect(fake.decryptCalls()).toBe(1)
  })

  it('has no fields, even when its plaintext looks like a bundle', async () => {
    // Prepare
    const env = { A: fake.encrypt('a', '{"F":"1"}') }
    // Act
    const error = await failure(round(env, [['f', 'A#F']]))
    // Assess
    expect(error).toMatchObject({ code: 'MALFORMED_VALUE', variable: 'A' })
    expect(error.message).toBe('A: is not a bundle, so it has no field "F"')
  })
})

describe('envelopes and bundles', () => {
  it('wipes the data key KMS returned once the envelope is open', async () => {
    // Prepare
    const env = { A: envelope('a', 'secret-value') }
    // Act
    const values = await round(env, [['a', 'A']])
    // Assess
    expect(values).toEqual({ a: 'secret-value' })
    expect(fake.returned).toHaveLength(1)
    expect(fake.returned[0]?.length).toBe(32)
    expect(fake.returned[0]?.every((byte) => byte === 0)).toBe(true)
  })

  it('parses a bundle once, whatever the number of fields read', async () => {
    // Prepare
    const env = { S: envelope('s', '{"A":"1","B":"2","C":"3"}', EnvelopeKind.Bundle) }
    const parse = vi.spyOn(JSON, 'parse')
    // Act
    const values = await round(env, [
      ['a', 'S#A'],
      ['b', 'S#B'],
      ['c', 'S#C'],
    ])
    // Assess
    expect(values).toEqual({ a: '1', b: '2', c: '3' })
    expect(parse).toHaveBeenCalledTimes(1)
  })

  it.each([
    ['binary', 'B', 'S#B: value is not valid base64 (truncated or altered?)'],
    ['json', 'C', 'S#C: plaintext is not valid JSON'],
  ] as const)(
    'a %s field that does not convert names the source and the field',
    async (transform, field, message) => {
      // Prepare
      const env = { S: envelope('s', '{"B":"not base64!","C":"{nope"}', EnvelopeKind.Bundle) }
      // Act
      const error = await failure(round(env, [['x', `S#${field}`, transform]]))
      // Assess
      expect(error).toMatchObject({ code: 'MALFORMED_VALUE', variable: `S#${field}` })
      expect(error.message).toBe(message)
    },
  )

  it.each([
    ['a JSON string', '"abc"', '0'],
    ['an object with a number', '{"A":"1","B":2}', 'A'],
    ['an array', '["a"]', '0'],
    ['null', 'null', 'A'],
  ])('a bundle holding %s is refused, naming the source', async (_, plaintext, field) => {
    // Prepare
    const env = { S: envelope('s', plaintext, EnvelopeKind.Bundle) }
    // Act
    const error = await failure(round(env, [['x', `S#${field}`]]))
    // Assess
    expect(error).toMatchObject({ code: 'MALFORMED_VALUE', variable: 'S' })
    expect(error.message).toBe('S: bundle is not a JSON object of strings')
  })

  it('an altered envelope fails authentication, with the message that says so', async () => {
    // Prepare
    const sealed = envelope('a', 'secret-value')
    const body = Buffer.from(sealed.slice(5), 'base64')
    body[body.length - 1] = (body[body.length - 1] as number) ^ 1
    // Act
    const error = await failure(round({ A: `kse1:${body.toString('base64')}` }, [['a', 'A']]))
    // Assess
    expect(error.code).toBe('TAMPERED')
    expect(error.message).toBe(
      'A: envelope failed authentication: it was altered, or its encryption context differs',
    )
  })

  it.each([
    [
      'a version prefix not at the start',
      'Xkse2:AAAA',
      'A: value is not valid base64 (truncated or altered?)',
    ],
    [
      'a two-digit version',
      'kse12:AAAA',
      'A: envelope format kse12: is not supported by this version of middy-kms-secrets (upgrade it)',
    ],
  ])('%s', async (_, value, message) => {
    // Act
    const error = await failure(round({ A: value }, [['a', 'A']]))
    // Assess
    expect(error.message).toBe(message)
  })
})

describe('KMS answers', () => {
  it('without a plaintext: KMS_ERROR, saying so', async () => {
    // Prepare
    fake.kms.on(DecryptCommand).resolves({ KeyId: KEY_ARN })
    // Act
    const error = await failure(round({ A: fake.encrypt('a', 'x') }, [['a', 'A']]))
    // Assess
    expect(error.code).toBe('KMS_ERROR')
    expect(error.message).toBe('A: KMS answered Decrypt without a plaintext')
  })

  it.each([
    ['another key', `${KEY_ARN.slice(0, -4)}ffff`],
    ['no key id at all', undefined],
  ])('from %s than the pinned key id: KEY_MISMATCH', async (_, answered) => {
    // Prepare
    fake.kms.on(DecryptCommand).resolves({ Plaintext: Buffer.from('x'), KeyId: answered })
    const pin = KEY_ARN.split('/')[1] as string
    // Act
    const error = await failure(round({ A: fake.encrypt('a', 'x') }, [['a', 'A']], { keyId: pin }))
    // Assess
    expect(error.code).toBe('KEY_MISMATCH')
    expect(error.message).toBe('A: KMS decrypted with a key other than the keyId pin')
  })
})

describe('sources', () => {
  it.each([
    ['VAR#', 'empty field name after "#"'],
    ['file:', 'empty file path'],
    ['file:#x', 'empty file path'],
    [
      'NOT A NAME',
      'not an environment variable name (use VAR, VAR#field, file:path or file:path#field)',
    ],
  ])('%s is refused, naming the source as written', (text, message) => {
    // Act
    let error: unknown
    try {
      parseSource(text)
    } catch (e) {
      error = e
    }
    // Assess
    expect(error).toBeInstanceOf(KmsSecretsError)
    expect(error).toMatchObject({ code: 'INVALID_OPTIONS', variable: text })
    expect((error as Error).message).toBe(`${text}: ${message}`)
  })

  it('a file source is of kind "file"', () => {
    // Act / Assess
    expect(parseSource('file:certs/tls.enc#key')).toEqual({
      origin: 'file:certs/tls.enc',
      kind: 'file',
      name: 'certs/tls.enc',
      field: 'key',
    })
  })

  it('an unset variable is MISSING_VARIABLE, saying so', async () => {
    // Act
    const error = await failure(round({}, [['a', 'A']]))
    // Assess
    expect(error).toMatchObject({ code: 'MISSING_VARIABLE', variable: 'A' })
    expect(error.message).toBe('A: environment variable is not set')
  })
})

describe('the KMS error table', () => {
  const awsError = (name: string, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(''), { name, ...extra })

  it.each([
    [
      'AccessDeniedException',
      'ACCESS_DENIED',
      'KMS denied Decrypt: the role lacks kms:Decrypt on the key, its encryption-context condition does not match, or (with a keyId pin) the value was encrypted under another key',
    ],
    [
      'InvalidCiphertextException',
      'CONTEXT_MISMATCH',
      'KMS rejected the ciphertext: most likely it was encrypted for another function name or encryption context (check LambdaFunctionName / KMS_SECRETS_FUNCTION_NAME), or under another key or account, or the value was altered',
    ],
    [
      'IncorrectKeyException',
      'KEY_MISMATCH',
      'the value was encrypted under a key other than the keyId pin',
    ],
    ['NotFoundException', 'KEY_MISMATCH', 'the key named by keyId (or its alias) does not exist'],
    ['InvalidKeyUsageException', 'KEY_MISMATCH', 'the key cannot decrypt (wrong key usage)'],
    ['DisabledException', 'KEY_DISABLED', 'the KMS key is disabled'],
    [
      'KMSInvalidStateException',
      'KEY_DISABLED',
      'the KMS key is not usable (disabled, pending deletion or pending import)',
    ],
    ['KeyUnavailableException', 'KEY_DISABLED', 'the KMS key is unavailable'],
    [
      'ThrottlingException',
      'THROTTLED',
      'KMS throttled Decrypt (account request quota); retries were exhausted',
    ],
    ['LimitExceededException', 'THROTTLED', 'KMS request limit exceeded'],
    ['CredentialsProviderError', 'ACCESS_DENIED', 'no AWS credentials could be loaded for KMS'],
    ['AbortError', 'TIMEOUT', 'KMS did not answer in time'],
    ['TimeoutError', 'TIMEOUT', 'KMS did not answer in time'],
  ])('%s: %s, "%s"', (name, code, message) => {
    // Act
    const mapped = fromKmsError(awsError(name), 'V')
    // Assess
    expect(mapped).toMatchObject({ code, kmsError: name })
    expect(mapped.message).toBe(`V: ${message}`)
  })

  it.each([
    'ECONNREFUSED',
    'ECONNRESET',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EPIPE',
    'ETIMEDOUT',
    'EHOSTUNREACH',
    'ENETUNREACH',
  ])('%s is NETWORK', (code) => {
    // Act / Assess
    expect(fromKmsError(Object.assign(new Error(''), { code }), 'V')).toMatchObject({
      code: 'NETWORK',
      message: `V: could not reach KMS (${code})`,
    })
  })

  it.each([
    ['another system error code', { code: 'ENOENT' }],
    ['a numeric code', { code: 104 }],
    ['an error named like an Object.prototype member', { name: 'constructor' }],
    ['an error named toString', { name: 'toString' }],
  ])('%s is KMS_ERROR', (_, fields) => {
    // Act
    const mapped = fromKmsError(Object.assign(new Error(''), fields), 'V')
    // Assess
    expect(mapped.code).toBe('KMS_ERROR')
    expect(mapped.message).toMatch(/^V: KMS call failed/)
  })
})
