import { randomBytes } from 'node:crypto'
import { GetParameterError } from '@aws-lambda-powertools/parameters/errors'
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms'
import { describe, expect, it, vi } from 'vitest'
import { EnvelopeKind } from '../../src/core/envelope.ts'
import { KmsSecretsError } from '../../src/core/errors.ts'
import { KmsSecretsProvider } from '../../src/provider.ts'
import { fakeKmsInFunctionEachTest } from './fake-kms.ts'

describe('KmsSecretsProvider', () => {
  const fake = fakeKmsInFunctionEachTest()

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
    const context = { LambdaFunctionName: 'other', Stage: 'prod' }
    const plaintext = JSON.stringify({ A: '1', B: '{"b":2}' })
    vi.stubEnv('BUNDLE', fake.envelope(plaintext, EnvelopeKind.Bundle, context))
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

  it('throws the coded KmsSecretsError itself, not a GetParameterError, and retries next time', async () => {
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
    expect(error).toBeInstanceOf(KmsSecretsError)
    expect(error).not.toBeInstanceOf(GetParameterError)
    expect(error).toMatchObject({ code: 'KEY_DISABLED', variable: 'API_TOKEN' })
    expect(retried).toBe('abc')
  })

  it('keeps a value maxAge seconds, then decrypts again', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
    const provider = new KmsSecretsProvider()

    // Act
    await provider.get('API_TOKEN', { maxAge: 5 })
    vi.advanceTimersByTime(4000)
    await provider.get('API_TOKEN', { maxAge: 5 })
    const callsWithin = fake.decryptCalls()
    vi.advanceTimersByTime(2000)
    await provider.get('API_TOKEN', { maxAge: 5 })
    vi.useRealTimers()

    // Assess
    expect(callsWithin).toBe(1)
    expect(fake.decryptCalls()).toBe(2)
  })

  it("gets a binary value as its bytes with transform 'binary'", async () => {
    // Prepare
    const dataKey = randomBytes(32)
    vi.stubEnv('DATA_KEY', fake.encrypt('key', dataKey))
    const provider = new KmsSecretsProvider()

    // Act
    const value = await provider.get('DATA_KEY', { transform: 'binary' })

    // Assess
    expect(value).toBeInstanceOf(Uint8Array)
    expect(Buffer.from(value as Uint8Array).equals(dataKey)).toBe(true)
  })

  it('never answers get from what getMultiple cached, nor the reverse', async () => {
    // Prepare
    vi.stubEnv('BUNDLE', fake.encrypt('bundle', '{"A":"1"}'))
    const provider = new KmsSecretsProvider()

    // Act
    const all = await provider.getMultiple('BUNDLE')
    const text = await provider.get('BUNDLE')
    const allAgain = await provider.getMultiple('BUNDLE')

    // Assess
    expect(all).toEqual({ A: '1' })
    expect(text).toBe('{"A":"1"}')
    expect(allAgain).toBe(all)
    expect(fake.decryptCalls()).toBe(2)
  })

  it('getMultiple: a field named __proto__ stays an own field, also through the JSON transform', async () => {
    // Prepare
    vi.stubEnv('BUNDLE', fake.encrypt('bundle', '{"__proto__":"{\\"isAdmin\\":true}","B":"2"}'))
    const provider = new KmsSecretsProvider()

    // Act
    const values = (await provider.getMultiple('BUNDLE', { transform: 'json' })) as Record<
      string,
      unknown
    >

    // Assess
    expect(Object.getPrototypeOf(values)).toBe(Object.prototype)
    expect(values.isAdmin).toBeUndefined()
    expect(Object.getOwnPropertyDescriptor(values, '__proto__')?.value).toEqual({ isAdmin: true })
    expect(values.B).toBe(2)
  })

  it("a JSON secret's keys are data: the empty key, __proto__ and constructor come back as own fields, no prototype touched", async () => {
    // Prepare: the fuzz's counterexample (seed -1408738911), a raw value {"":""}, and worse keys
    vi.stubEnv('EMPTY_KEY', fake.encrypt('empty', '{"":""}'))
    const tricky = '{"":"e","__proto__":{"isAdmin":true},"constructor":"c","toString":"t"}'
    vi.stubEnv('TRICKY', fake.encrypt('tricky', tricky))
    vi.stubEnv(
      'BUNDLE',
      fake.envelope(tricky.replace('{"isAdmin":true}', '"p"'), EnvelopeKind.Bundle),
    )
    const provider = new KmsSecretsProvider()
    const { loadSecrets } = await import('../../src/index.ts')

    // Act
    const empty = await provider.get('EMPTY_KEY', { transform: 'json' })
    const parsed = (await provider.get('TRICKY', { transform: 'json' })) as Record<string, unknown>
    const cached = await provider.get('TRICKY', { transform: 'json' })
    const fields = (await provider.getMultiple('BUNDLE')) as Record<string, unknown>
    const loaded = await loadSecrets({
      fetchData: { empty: 'EMPTY_KEY', proto: 'BUNDLE#__proto__', ctor: 'BUNDLE#constructor' },
      transform: { empty: 'json' },
    })

    // Assess
    expect(empty).toEqual({ '': '' })
    expect(loaded).toEqual({ empty: { '': '' }, proto: 'p', ctor: 'c' })
    for (const value of [parsed, fields]) {
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
      expect(Object.keys(value)).toEqual(['', '__proto__', 'constructor', 'toString'])
      expect(value.isAdmin).toBeUndefined()
    }
    expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toEqual({ isAdmin: true })
    expect(fields.constructor).toBe('c')
    expect(cached).toBe(parsed)
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined()
  })

  it('getMultiple transforms fields: binary from base64; a failing field is undefined unless throwOnTransformError', async () => {
    // Prepare
    const key = Buffer.from('key bytes').toString('base64')
    vi.stubEnv('BUNDLE', fake.encrypt('bundle', JSON.stringify({ K: key, J: 'not json' })))
    const provider = new KmsSecretsProvider()

    // Act
    const binary = await provider.getMultiple('BUNDLE', { transform: 'binary' })
    const lenient = await provider.getMultiple('BUNDLE', { transform: 'json' })
    const strict = await provider
      .getMultiple('BUNDLE', { transform: 'json', throwOnTransformError: true, forceFetch: true })
      .catch((e: unknown) => e)

    // Assess
    expect(Buffer.from(binary?.K as Uint8Array).toString()).toBe('key bytes')
    expect(binary?.J).toBeUndefined()
    expect(lenient).toEqual({ K: undefined, J: undefined })
    expect(Object.keys(lenient ?? {})).toEqual(['K', 'J'])
    expect(strict).toMatchObject({ code: 'MALFORMED_VALUE', variable: 'BUNDLE#K' })
  })

  it('checks its options and the options of each call (INVALID_OPTIONS, naming the option)', async () => {
    // Prepare
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
    const provider = new KmsSecretsProvider()
    const construct = (options: unknown) => {
      try {
        return new KmsSecretsProvider(options as never)
      } catch (error) {
        return error
      }
    }
    const get = (options: unknown) => provider.get('API_TOKEN', options as never).catch((e) => e)
    const getMultiple = (options: unknown) =>
      provider.getMultiple('API_TOKEN', options as never).catch((e) => e)

    // Act
    const failures = [
      [construct({ keyID: 'alias/x' }), /unknown option "keyID" \(did you mean "keyId"\?\)/],
      [construct({ timeout: 0 }), /timeout must be/],
      [construct({ clientConfig: 'eu-west-1' }), /clientConfig must be an object/],
      [construct({ awsSdkV3Client: 'client' }), /awsSdkV3Client must be a KMS client/],
      [construct({ awsSdkV3Client: null }), /awsSdkV3Client must be a KMS client/],
      [construct({ fetchData: { a: 'A' } }), /unknown option "fetchData"/],
      [await get({ transform: 'base64' }), /transform must be 'json' or 'binary'/],
      [await get({ transform: { a: 'json' } }), /transform must be 'json' or 'binary'/],
      [await get({ maxAge: -1 }), /maxAge must be a number of seconds >= 0/],
      [await get({ maxAge: Number.POSITIVE_INFINITY }), /maxAge must be/],
      [
        await get({ forcefetch: true }),
        /unknown option "forcefetch" \(did you mean "forceFetch"\?\)/,
      ],
      [await get({ sdkOptions: {} }), /unknown option "sdkOptions"/],
      [await get({ throwOnTransformError: true }), /unknown option "throwOnTransformError"/],
      [await getMultiple({ transform: 'auto' }), /transform must be 'json' or 'binary'/],
      [await getMultiple({ throwOnMissing: 'yes' }), /throwOnMissing must be true or false/],
      [await provider.get(42 as never).catch((e) => e), /the name to get must be a string/],
    ] as const

    // Assess
    for (const [error, message] of failures) {
      expect(error).toBeInstanceOf(KmsSecretsError)
      expect(error).toMatchObject({ code: 'INVALID_OPTIONS' })
      expect((error as Error).message).toMatch(message)
    }
    expect(fake.decryptCalls()).toBe(0)
  })

  it('accepts every Powertools option it documents', async () => {
    // Prepare
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
    const provider = new KmsSecretsProvider({
      encryptionContext: { LambdaFunctionName: 'my-function' },
      bindVariableName: false,
      keyId: 'alias/any',
      timeout: 1000,
      redactLogs: false,
      clientConfig: {},
    })

    // Act
    const value = await provider.get('API_TOKEN', {
      maxAge: 0,
      forceFetch: true,
      transform: undefined,
      throwOnMissing: true,
    })

    // Assess
    expect(value).toBe('abc')
  })
})
