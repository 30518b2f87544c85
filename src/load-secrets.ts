import {
  type FetchData,
  type LoadSecretsOptions,
  type Secrets,
  secretsLoader,
  type TransformOption,
} from './options.ts'

/**
 * The middleware's core without Middy: decrypts once (per `cacheExpiry`) and then
 * resolves from cache. Call it in the handler. To complete the round within INIT (as
 * `kmsSecrets(...).ready()` does), also `await loadSecrets(options).catch(() => {})` at the
 * module's top level: a failure is never cached, the handler's call retries and reports it.
 */
export const loadSecrets = <
  const F extends FetchData,
  const T extends TransformOption<F> | undefined = undefined,
>(
  options: LoadSecretsOptions<F, T>,
): Promise<Secrets<F, T>> => secretsLoader<Secrets<F, T>>(options).cache.get()
