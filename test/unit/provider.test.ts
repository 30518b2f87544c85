import { randomBytes } from 'node:crypto'
import { GetParameterError } from '@aws-lambda-powertools/parameters/errors'
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { EnvelopeKind, sealEnvelope } from '../../src/envelope.ts'
import { KmsSecretsProvider } from '../../src/provider.ts'
import { fakeKms } from './fake-kms.ts'

describe('KmsSecretsProvider', () => {
  let fake: ReturnType<typeof fakeKms>

  beforeEach(() => {
    fake = fakeKms()
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'my-function')
  })
  afterEach(() => {
    fake.kms.restore()
    vi.unstubAllEnvs()
  })

  it('gets a value once and keeps it for the container by default', async () => {
    // Prepare
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'tök€n'))
    const provider = new KmsSecretsProvider()

    // Act
    const values = await Promise.all([provider.get('API_TOKEN'), provider.get('API_TOKEN')])
    const again = await provider.get('API_TOKEN')

    // Assess
    expect(values).toEqual(['tök€n', 'tök€n'])
    expect(again).toBe('tök€n')
    expect(fake.decryptCalls()).toBe(1)
  })

  it('honours maxAge, forceFetch and transform as Powertools users expect', async () => {
    // Prepare
    vi.stubEnv('CONFIG', fake.encrypt('config', '{"port":5432}'))
    const provider = new KmsSecretsProvider({ awsSdkV3Client: new KMSClient({}) })

    // Act
    const parsed = await provider.get('CONFIG', { transform: 'json' })
    await provider.get('CONFIG', { maxAge: 0 })
    await provider.get('CONFIG', { forceFetch: true })

    // Assess
    expect(parsed).toEqual({ port: 5432 })
    expect(fake.decryptCalls()).toBe(3)
  })

  it('getMultiple returns every field of a bundle', async () => {
    // Prepare
    const dataKey = randomBytes(32)
    const context = { LambdaFunctionName: 'other', Stage: 'prod' }
    const encryptedKey = Buffer.from(fake.encrypt('bundle', dataKey, context), 'base64')
    const plaintext = Buffer.from(JSON.stringify({ A: '1', B: '{"b":2}' }))
    vi.stubEnv(
      'BUNDLE',
      sealEnvelope({ kind: EnvelopeKind.Bundle, plaintext, dataKey, encryptedKey, context }),
    )
    const provider = new KmsSecretsProvider({ encryptionContext: context, timeout: 1000 })

    // Act
    const values = await provider.getMultiple('BUNDLE')
    const transformed = await provider.getMultiple('BUNDLE', {
      transform: 'json',
      throwOnTransformError: false,
    })

    // Assess
    expect(values).toEqual({ A: '1', B: '{"b":2}' })
    expect(transformed).toEqual({ A: 1, B: { b: 2 } })
  })

  it('wraps failures in GetParameterError with the coded KmsSecretsError as cause, and retries next time', async () => {
    // Prepare
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
    fake.kms
      .on(DecryptCommand)
      .rejectsOnce(Object.assign(new Error(''), { name: 'DisabledException' }))
      .resolves({ Plaintext: Buffer.from('abc') })
    const provider = new KmsSecretsProvider({ keyId: undefined, bindVariableName: false })

    // Act
    const error = await provider.get('API_TOKEN').catch((e: unknown) => e)
    const retried = await provider.get('API_TOKEN')

    // Assess
    expect(error).toBeInstanceOf(GetParameterError)
    expect((error as Error).cause).toMatchObject({ code: 'KEY_DISABLED', variable: 'API_TOKEN' })
    expect(retried).toBe('abc')
  })
})
