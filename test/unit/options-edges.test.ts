// The faces at their edges: the public defaults, option checks, the client options,
// loader reuse and clearCache per key, the synchronous warm path of the middleware, and
// the provider options that must reach the decrypt core.
import { DecryptCommand, KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms'
import type { Request } from '@middy/core'
import { getInternal } from '@middy/util'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { blobId, fakeKms, settle } from './fake-kms.ts'

const freshLibrary = async () => {
  vi.resetModules()
  return {
    ...(await import('../../src/index.ts')),
    ...(await import('../../src/core/loader.ts')),
    ...(await import('../../src/provider.ts')),
  }
}

let fake: ReturnType<typeof fakeKms>
beforeEach(() => {
  fake = fakeKms()
  vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'my-function')
  vi.stubEnv('KMS_SECRETS_FUNCTION_NAME', '')
})
afterEach(() => {
  fake.kms.restore()
  vi.unstubAllEnvs()
  vi.restoreAllMocks()
})

const failureOf = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeDefined()
  return error as { code: string; variable: string; message: string; cause?: unknown }
}

describe('the public defaults', () => {
  it('are what the docs say: nothing written to env, no redaction, Middy-like middleware', async () => {
    // Prepare
    vi.resetModules()
    const { defaults, kmsSecretsDefaults } = await import('../../src/index.ts')
    const expected = {
      cacheExpiry: -1,
      cacheKey: 'kms-secrets',
      setToEnv: false,
      AwsClient: KMSClient,
      awsClientOptions: {},
      encryptionContext: undefined,
      bindVariableName: false,
      keyId: undefined,
      timeout: 5000,
      redactLogs: false,
    }
    // Act / Assess
    expect(defaults).toEqual(expected)
    expect(kmsSecretsDefaults).toEqual({
      ...expected,
      disablePrefetch: false,
      setToContext: false,
    })
  })
})

describe('options', () => {
  it('refuses a fetchData that is not an object (a lone string has keys too)', async () => {
    // Prepare
    const { loadSecrets } = await freshLibrary()
    // Act
    const error = await failureOf(
      Promise.resolve().then(() => loadSecrets({ fetchData: 'API_TOKEN' as never })),
    )
    // Assess
    expect(error.code).toBe('INVALID_OPTIONS')
  })

  it('without a function name: MISSING_VARIABLE, saying what to set', async () => {
    // Prepare
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', '')
    vi.stubEnv('A', fake.encrypt('a', 'x'))
    const { loadSecrets } = await freshLibrary()
    // Act
    const error = await failureOf(loadSecrets({ fetchData: { a: 'A' } }))
    // Assess
    expect(error).toMatchObject({ code: 'MISSING_VARIABLE', variable: 'AWS_LAMBDA_FUNCTION_NAME' })
    expect(error.message).toBe(
      'AWS_LAMBDA_FUNCTION_NAME: no function name for the default encryption context: set KMS_SECRETS_FUNCTION_NAME, or pass encryptionContext',
    )
  })

  it('hands awsClientOptions to the client class', async () => {
    // Prepare
    const configs: KMSClientConfig[] = []
    class SpyClient extends KMSClient {
      constructor(config: KMSClientConfig) {
        super(config)
        configs.push(config)
      }
    }
    vi.stubEnv('A', fake.encrypt('a', 'x'))
    const { loadSecrets } = await freshLibrary()
    // Act
    await loadSecrets({
      fetchData: { a: 'A' },
      AwsClient: SpyClient,
      awsClientOptions: { region: 'eu-west-3', maxAttempts: 2 },
    })
    // Assess
    expect(configs).toEqual([{ region: 'eu-west-3', maxAttempts: 2 }])
  })

  it('the same options object skips the lookup by cacheKey (no signature computed)', async () => {
    // Prepare
    const { secretsLoader } = await freshLibrary()
    const kit = { AwsClient: KMSClient, DecryptCommand }
    const options = { fetchData: { a: 'A' } }
    const first = secretsLoader(options, kit)
    const stringify = vi.spyOn(JSON, 'stringify')
    // Act
    const second = secretsLoader(options, kit)
    // Assess
    expect(second).toBe(first)
    expect(stringify).not.toHaveBeenCalled()
  })

  it('clearCache(key) forgets that key only', async () => {
    // Prepare
    vi.stubEnv('A', fake.encrypt('a', 'x'))
    vi.stubEnv('B', fake.encrypt('b', 'y'))
    const { loadSecrets, clearCache } = await freshLibrary()
    await loadSecrets({ fetchData: { a: 'A' }, cacheKey: 'a' })
    await loadSecrets({ fetchData: { b: 'B' }, cacheKey: 'b' })
    fake.kms.resetHistory()
    // Act
    clearCache('a')
    await loadSecrets({ fetchData: { a: 'A' }, cacheKey: 'a' })
    await loadSecrets({ fetchData: { b: 'B' }, cacheKey: 'b' })
    // Assess: only A was decrypted again
    const blobs = fake.kms
      .commandCalls(DecryptCommand)
      .map((call) => blobId(call.args[0].input.CiphertextBlob))
    expect(blobs).toEqual(['a'])
  })
})

describe('middleware warm path', () => {
  it('is synchronous once the secrets are cached (Middy does not even await it)', async () => {
    // Prepare
    vi.stubEnv('A', fake.encrypt('a', 'x'))
    const { kmsSecrets } = await freshLibrary()
    const middleware = kmsSecrets({ fetchData: { a: 'A' } })
    const runBefore = middleware.before as (request: Request) => Promise<void> | undefined
    const request = () => ({ internal: {}, context: {} }) as unknown as Request
    await settle()
    const cold = request()
    const warm = request()
    // Act
    await runBefore(cold)
    const second = runBefore(warm)
    // Assess
    expect(second).toBeUndefined()
    expect(await getInternal(['a'], warm)).toEqual({ a: 'x' })
  })
})

describe('KmsSecretsProvider options', () => {
  it('bindVariableName: true binds the variable name into the context', async () => {
    // Prepare
    vi.stubEnv(
      'A',
      fake.encrypt('a', 'x', { LambdaFunctionName: 'my-function', EnvironmentVariableName: 'A' }),
    )
    const { KmsSecretsProvider } = await freshLibrary()
    // Act
    const value = await new KmsSecretsProvider({ bindVariableName: true }).get('A')
    // Assess
    expect(value).toBe('x')
  })

  it('timeout bounds the decrypt step', async () => {
    // Prepare
    fake.kms.on(DecryptCommand).callsFake(() => new Promise(() => {}))
    vi.stubEnv('A', fake.encrypt('a', 'x'))
    const { KmsSecretsProvider } = await freshLibrary()
    // Act
    const error = await failureOf(new KmsSecretsProvider({ timeout: 10 }).get('A'))
    // Assess
    expect(error).toMatchObject({ name: 'KmsSecretsError', code: 'TIMEOUT' })
    expect(error.message).toBe('A: decrypting took longer than the 10 ms deadline')
  })

  it('without redactLogs, guards nothing', async () => {
    // Prepare
    vi.stubEnv('A', fake.encrypt('a', 'plain-value-123'))
    const { KmsSecretsProvider } = await freshLibrary()
    const redact = await import('../../src/core/redact.ts')
    // Act
    await new KmsSecretsProvider().get('A')
    // Assess
    expect(redact.mask('plain-value-123')).toBe('plain-value-123')
  })
})
