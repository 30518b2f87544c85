import type { MiddlewareObj, Request } from '@middy/core'
import type { Context } from 'aws-lambda'
import {
  defaults,
  type FetchData,
  type LoadSecretsOptions,
  type Secrets,
  secretsLoader,
  type TransformOption,
} from './options.ts'

export interface KmsSecretsOptions<
  F extends FetchData = FetchData,
  T extends TransformOption<F> | undefined = undefined,
  C extends boolean = false,
> extends LoadSecretsOptions<F, T> {
  /** Default false: decryption starts when the middleware is created, in the INIT phase. */
  disablePrefetch?: boolean
  /** Also put the plaintexts on `context` (default false, as Middy's secret middlewares). */
  setToContext?: C
}

export const kmsSecretsDefaults = {
  ...defaults,
  disablePrefetch: false,
  setToContext: false,
}

/**
 * Middy middleware: decrypts the KMS-encrypted environment variables named in
 * `fetchData` once per cold start and hands the plaintexts to the handler through
 * `request.internal` (read them with Middy's `getInternal`) or `context`.
 */
export const kmsSecrets = <
  const F extends FetchData,
  const T extends TransformOption<F> | undefined = undefined,
  const C extends boolean = false,
>(
  options: KmsSecretsOptions<F, T, C>,
): MiddlewareObj<
  unknown,
  unknown,
  Error,
  C extends true ? Context & Secrets<F, T> : Context,
  Secrets<F, T>
> => {
  const { cache, cacheExpiry } = secretsLoader<Secrets<F, T>>(options)
  const setToContext = options.setToContext ?? kmsSecretsDefaults.setToContext
  // Start during INIT: the function's first invocation finds the secrets ready. A
  // failure here stays in no cache: that invocation decrypts again and reports it.
  if (!(options.disablePrefetch ?? kmsSecretsDefaults.disablePrefetch) && cacheExpiry !== 0) {
    cache.get().catch(() => {})
  }
  const assign = (request: Request, values: Secrets<F, T>): undefined => {
    Object.assign(request.internal, values)
    if (setToContext) Object.assign(request.context, values)
  }
  const kmsSecretsBefore = (request: Request): Promise<void> | undefined => {
    const values = cache.peek()
    // Warm path: synchronous, so Middy does not even await it.
    if (values !== undefined) return assign(request, values)
    return cache.get().then((fresh) => assign(request, fresh))
  }
  return { before: kmsSecretsBefore } as MiddlewareObj<
    unknown,
    unknown,
    Error,
    C extends true ? Context & Secrets<F, T> : Context,
    Secrets<F, T>
  >
}
