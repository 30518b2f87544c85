import {
  type FetchData,
  type LoadSecretsOptions,
  type Secrets,
  secretsLoader,
  type TransformOption,
} from './options.ts'

/**
 * The middleware's core without Middy: decrypts once (per `cacheExpiry`) and then
 * resolves from cache. Call it in the handler; to start during INIT as well, also
 * call it at module scope with `.catch(() => {})`: a failure is never cached.
 */
export const loadSecrets = <
  const F extends FetchData,
  const T extends TransformOption<F> | undefined = undefined,
>(
  options: LoadSecretsOptions<F, T>,
): Promise<Secrets<F, T>> => secretsLoader<Secrets<F, T>>(options).cache.get()
