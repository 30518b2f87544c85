import middy, { type MiddlewareObj } from '@middy/core'
import type { Context } from 'aws-lambda'
import { describe, expectTypeOf, it } from 'vitest'
import { type KmsSecretsError, kmsSecrets, loadSecrets } from '../../src/index.ts'
import { KmsSecretsProvider } from '../../src/provider.ts'

describe('option -> result typing', () => {
  it('yields strings by default, one key per fetchData entry', async () => {
    const secrets = await loadSecrets({ fetchData: { apiToken: 'API_TOKEN', db: 'BUNDLE#DB' } })
    expectTypeOf(secrets).toEqualTypeOf<{ apiToken: string; db: string }>()
  })

  it('narrows per key with a transform map, or for all with one transform', async () => {
    const mixed = await loadSecrets({
      fetchData: { token: 'API_TOKEN', dataKey: 'DATA_KEY', config: 'CONFIG' },
      transform: { dataKey: 'binary', config: 'json' },
    })
    expectTypeOf(mixed).toEqualTypeOf<{ token: string; dataKey: Uint8Array; config: unknown }>()
    const binary = await loadSecrets({ fetchData: { a: 'A', b: 'B' }, transform: 'binary' })
    expectTypeOf(binary).toEqualTypeOf<{ a: Uint8Array; b: Uint8Array }>()
  })

  it('rejects transforms for keys that fetchData does not have', () => {
    // @ts-expect-error: `other` is not a key of fetchData
    loadSecrets({ fetchData: { a: 'A' }, transform: { other: 'json' } })
    // @ts-expect-error: not a transform
    loadSecrets({ fetchData: { a: 'A' }, transform: 'base64' })
  })

  it('types context only when setToContext is true', () => {
    middy()
      .use(kmsSecrets({ fetchData: { apiToken: 'API_TOKEN' }, setToContext: true }))
      .handler(async (_event, context) => {
        expectTypeOf(context.apiToken).toEqualTypeOf<string>()
        expectTypeOf(context).toExtend<Context>()
      })
    middy()
      .use(kmsSecrets({ fetchData: { apiToken: 'API_TOKEN' } }))
      .handler(async (_event, context) => {
        expectTypeOf(context).not.toHaveProperty('apiToken')
      })
  })

  it('is a Middy MiddlewareObj, though its types import neither @middy/core nor aws-lambda', () => {
    const withContext = kmsSecrets({ fetchData: { apiToken: 'API_TOKEN' }, setToContext: true })
    expectTypeOf(withContext).toExtend<
      MiddlewareObj<unknown, unknown, Error, Context & { apiToken: string }, { apiToken: string }>
    >()
    const inStore = kmsSecrets({ fetchData: { apiToken: 'API_TOKEN' } })
    expectTypeOf(inStore).toExtend<
      MiddlewareObj<unknown, unknown, Error, Context, { apiToken: string }>
    >()
    middy()
      .use([withContext, kmsSecrets({ fetchData: { db: 'DB' }, setToContext: true })])
      .handler(async (_event, context) => {
        expectTypeOf(context.apiToken).toEqualTypeOf<string>()
        expectTypeOf(context.db).toEqualTypeOf<string>()
        expectTypeOf(context.awsRequestId).toEqualTypeOf<string>()
        // @ts-expect-error: not a secret of these middlewares, nor a Context property
        void context.other
      })
  })

  it('types the internal store for getInternal', () => {
    const middleware = kmsSecrets({ fetchData: { key: 'DATA_KEY' }, transform: 'binary' })
    type Internal = Parameters<NonNullable<typeof middleware.before>>[0]['internal']
    expectTypeOf<Internal>().toEqualTypeOf<{ key: Uint8Array }>()
  })

  it('gives errors a stable code union', () => {
    expectTypeOf<KmsSecretsError['code']>().toEqualTypeOf<
      | 'MISSING_VARIABLE'
      | 'MALFORMED_VALUE'
      | 'ACCESS_DENIED'
      | 'CONTEXT_MISMATCH'
      | 'KEY_MISMATCH'
      | 'KEY_DISABLED'
      | 'THROTTLED'
      | 'TIMEOUT'
      | 'NETWORK'
      | 'TAMPERED'
      | 'KMS_ERROR'
      | 'INVALID_OPTIONS'
    >()
  })

  it('narrows the provider result by transform', async () => {
    const provider = new KmsSecretsProvider()
    expectTypeOf(await provider.get('API_TOKEN')).toEqualTypeOf<string | undefined>()
    expectTypeOf(await provider.get('CONFIG', { transform: 'json' })).toEqualTypeOf<unknown>()
    expectTypeOf(await provider.get('DATA_KEY', { transform: 'binary' })).toEqualTypeOf<
      Uint8Array | undefined
    >()
    expectTypeOf(await provider.get('API_TOKEN', { throwOnMissing: true })).toEqualTypeOf<string>()
    expectTypeOf(await provider.getMultiple('BUNDLE')).toEqualTypeOf<
      Record<string, string> | undefined
    >()
    expectTypeOf(await provider.getMultiple('BUNDLE', { transform: 'binary' })).toEqualTypeOf<
      Record<string, Uint8Array> | undefined
    >()
  })
})

describe('provider: a caller-given type, as in Powertools', () => {
  interface Config {
    port: number
  }
  const provider = new KmsSecretsProvider()

  it('get<T>(name, { transform: json }) is T | undefined; without T, the transform decides', async () => {
    expectTypeOf(await provider.get<Config>('CONFIG', { transform: 'json' })).toEqualTypeOf<
      Config | undefined
    >()
    expectTypeOf(await provider.get<Config>('CONFIG')).toEqualTypeOf<Config | undefined>()
    expectTypeOf(
      await provider.get<unknown>('CONFIG', { transform: 'json' }),
    ).toEqualTypeOf<unknown>()
    expectTypeOf(await provider.get('CONFIG', { transform: 'json' })).toEqualTypeOf<unknown>()
    expectTypeOf(await provider.get('TOKEN', { maxAge: 5 })).toEqualTypeOf<string | undefined>()
  })

  it('getMultiple<T>(path, { transform: json }) is a record of T', async () => {
    expectTypeOf(await provider.getMultiple<Config>('BUNDLE', { transform: 'json' })).toEqualTypeOf<
      Record<string, Config> | undefined
    >()
  })

  it('still refuses what is not an option', () => {
    // @ts-expect-error: not a transform
    provider.get<Config>('CONFIG', { transform: 'yaml' })
    // @ts-expect-error: not an option of get
    provider.get('CONFIG', { sdkOptions: {} })
  })
})
