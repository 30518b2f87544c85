import { DecryptCommand } from '@aws-sdk/client-kms'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { fakeKms } from '../fake-kms.ts'

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

/** The middleware as the handler makes it, once its INIT round has been handed over. */
const prefetched = async () => {
  const { afterPrefetch, secretsMiddleware, secretsOptions } = await freshSecrets()
  const onRound = vi.fn()
  const use = vi.fn()
  const options = secretsOptions({ clientTlsFile: undefined, cacheExpiry: -1 }, onRound)
  const middleware = secretsMiddleware(options)
  await afterPrefetch(middleware, options, use)
  return { middleware, onRound, use }
}

describe('secretsMiddleware and afterPrefetch', () => {
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

  it('prefetches during INIT, reports that round, hands it over, and puts the token on the context', async () => {
    // Prepare
    const { middleware, onRound, use } = await prefetched()
    const first = request()
    const second = request()

    // Act
    const cold = middleware.before?.(first)
    const warm = middleware.before?.(second)

    // Assess
    expect(cold).toBeUndefined() // the prefetch finished: synchronous
    expect(warm).toBeUndefined()
    expect(onRound).toHaveBeenCalledTimes(1)
    expect(onRound.mock.calls[0]?.[0]).toMatchObject({ secrets: 1, kmsCalls: 1, error: undefined })
    expect(use).toHaveBeenCalledWith({ apiToken: TOKEN })
    expect((first as { context: { apiToken?: string } }).context.apiToken).toBe(TOKEN)
    expect((second as { context: { apiToken?: string } }).context.apiToken).toBe(TOKEN)
    expect(fake.decryptCalls()).toBe(1)
  })

  it('after a failed prefetch, hands nothing over; the invocation decrypts again and that round is reported', async () => {
    // Prepare: the first Decrypt is throttled.
    let calls = 0
    fake.kms.on(DecryptCommand).callsFake(async () => {
      calls++
      if (calls === 1) throw Object.assign(new Error(''), { name: 'ThrottlingException' })
      return { Plaintext: Buffer.from(TOKEN), KeyId: 'k' }
    })
    const { middleware, onRound, use } = await prefetched()
    const req = request()

    // Act
    const pending = middleware.before?.(req)
    await pending

    // Assess
    expect(pending).toBeInstanceOf(Promise)
    expect(calls).toBeGreaterThanOrEqual(2)
    expect(use).not.toHaveBeenCalled()
    expect(onRound.mock.calls.map(([report]) => report.error?.code)).toEqual([
      'THROTTLED',
      undefined,
    ])
    expect((req as { context: { apiToken?: string } }).context.apiToken).toBe(TOKEN)
  })

  it('contains what the hand-over throws (the invocation redoes that work)', async () => {
    // Prepare
    const { afterPrefetch, secretsMiddleware, secretsOptions } = await freshSecrets()
    const options = secretsOptions({ clientTlsFile: undefined, cacheExpiry: -1 }, () => {})
    const middleware = secretsMiddleware(options)
    const use = vi.fn(() => {
      throw new Error('bad client key')
    })

    // Act
    await afterPrefetch(middleware, options, use)
    const req = request()
    middleware.before?.(req)

    // Assess
    expect(use).toHaveBeenCalledTimes(1)
    expect((req as { context: { apiToken?: string } }).context.apiToken).toBe(TOKEN)
  })
})
