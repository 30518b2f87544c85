import { DecryptCommand } from '@aws-sdk/client-kms'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { fakeKms, settle } from '../fake-kms.ts'

// secure-fetch decrypts with LiteKmsClient (middy-kms-secrets/lite); here the same library
// on the SDK's client stands in, so the SDK mock answers. The lite client has its own
// tests (test/unit/lite-client.test.ts) and secure-fetch runs on it for real against
// moto in test/integration/secure-fetch.test.ts.
vi.mock('middy-kms-secrets/lite', () => import('middy-kms-secrets'))

const TOKEN = 'tok_secrets-unit-0123456789'

// A fresh module graph per test (secure-fetch's modules and the library they import): the
// library's module-scope caches and the prefetch start clean.
const freshSecrets = async () => {
  vi.resetModules()
  // The stand-in library may outlive resetModules: its cache starts clean all the same.
  ;(await import('middy-kms-secrets/lite')).clearCache()
  return import('../../../functions/secure-fetch/secrets.ts')
}

const request = () => ({ event: {}, context: {}, internal: {}, response: undefined }) as never

describe('secretsFetchData', () => {
  it('reads the token, and the cert and key of one secrets file when configured', async () => {
    // Prepare
    const { secretsFetchData } = await freshSecrets()

    // Act / Assess
    expect(secretsFetchData({ clientTlsFile: undefined })).toEqual({ apiToken: 'API_TOKEN' })
    expect(secretsFetchData({ clientTlsFile: 'secrets/tls.kse' })).toEqual({
      apiToken: 'API_TOKEN',
      clientCert: 'file:secrets/tls.kse#cert',
      clientKey: 'file:secrets/tls.kse#key',
    })
  })
})

describe('secretsMiddleware', () => {
  let fake: ReturnType<typeof fakeKms>

  beforeEach(() => {
    fake = fakeKms()
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'my-function')
    vi.stubEnv('KMS_SECRETS_FUNCTION_NAME', '')
    vi.stubEnv('AWS_REGION', 'us-east-1')
    vi.stubEnv('API_TOKEN', fake.encrypt('token', TOKEN))
  })
  afterEach(() => {
    fake.kms.restore()
    vi.unstubAllEnvs()
  })

  it('prefetches during INIT, reports that round once, and puts the token on the context', async () => {
    // Prepare
    const { secretsMiddleware } = await freshSecrets()
    const onDecrypted = vi.fn()
    const onPrefetched = vi.fn()
    const middleware = secretsMiddleware(
      { clientTlsFile: undefined },
      { onDecrypted, onPrefetched },
    )
    await settle()
    const first = request()
    const second = request()

    // Act
    const cold = middleware.before?.(first)
    const warm = middleware.before?.(second)

    // Assess
    expect(cold).toBeUndefined() // the prefetch finished: synchronous
    expect(warm).toBeUndefined()
    expect(onDecrypted).toHaveBeenCalledTimes(1)
    expect(onDecrypted.mock.calls[0]?.[0]).toBeGreaterThanOrEqual(0)
    expect(onPrefetched).toHaveBeenCalledWith({ apiToken: TOKEN })
    expect((first as { context: object }).context).toEqual({ apiToken: TOKEN })
    expect((second as { context: object }).context).toEqual({ apiToken: TOKEN })
    expect(fake.decryptCalls()).toBe(1)
  })

  it('an invocation that arrives during the prefetch joins it: one KMS call, one report', async () => {
    // Prepare: KMS answers after 80 ms.
    fake.kms.on(DecryptCommand).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 80))
      return { Plaintext: Buffer.from(TOKEN), KeyId: 'k' }
    })
    const { secretsMiddleware } = await freshSecrets()
    const onDecrypted = vi.fn()
    const middleware = secretsMiddleware({ clientTlsFile: undefined }, { onDecrypted })
    const req = request()

    // Act
    const pending = middleware.before?.(req)
    expect(onDecrypted).not.toHaveBeenCalled()
    await pending

    // Assess
    expect(fake.decryptCalls()).toBe(1)
    expect(onDecrypted).toHaveBeenCalledTimes(1)
    expect(onDecrypted.mock.calls[0]?.[0]).toBeGreaterThanOrEqual(70)
    expect((req as { context: object }).context).toEqual({ apiToken: TOKEN })
  })

  it('after a failed prefetch, the invocation decrypts again and that round is reported', async () => {
    // Prepare: the first Decrypt is throttled.
    let calls = 0
    fake.kms.on(DecryptCommand).callsFake(async () => {
      calls++
      if (calls === 1) throw Object.assign(new Error(''), { name: 'ThrottlingException' })
      return { Plaintext: Buffer.from(TOKEN), KeyId: 'k' }
    })
    const { secretsMiddleware } = await freshSecrets()
    const onDecrypted = vi.fn()
    const onPrefetched = vi.fn()
    const middleware = secretsMiddleware(
      { clientTlsFile: undefined },
      { onDecrypted, onPrefetched },
    )
    await settle()
    await new Promise((resolve) => setTimeout(resolve, 20))
    const req = request()

    // Act
    const pending = middleware.before?.(req)
    await pending

    // Assess
    expect(pending).toBeInstanceOf(Promise)
    expect(calls).toBeGreaterThanOrEqual(2)
    expect(onPrefetched).not.toHaveBeenCalled()
    expect(onDecrypted).toHaveBeenCalledTimes(1)
    expect((req as { context: object }).context).toEqual({ apiToken: TOKEN })
  })

  it('a throwing onPrefetched hook is contained (the invocation redoes that work)', async () => {
    // Prepare
    const { secretsMiddleware } = await freshSecrets()
    const onPrefetched = vi.fn(() => {
      throw new Error('bad client key')
    })
    const middleware = secretsMiddleware(
      { clientTlsFile: undefined },
      { onDecrypted: vi.fn(), onPrefetched },
    )
    await settle()

    // Act
    const req = request()
    middleware.before?.(req)

    // Assess
    expect(onPrefetched).toHaveBeenCalledTimes(1)
    expect((req as { context: object }).context).toEqual({ apiToken: TOKEN })
  })
})
