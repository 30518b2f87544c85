/**
 * The secrets of secure-fetch, decrypted by the library's `kmsSecrets` middleware once per
 * container: the API token (env var `API_TOKEN`, a KMS blob) and, for mutual TLS, the client
 * certificate and key read from one envelope secrets file (`CLIENT_TLS_FILE`, a bundle with the
 * fields `cert` and `key`): one KMS call for the file, in parallel with the token's.
 */
import type { Context } from 'aws-lambda'
import { type KmsSecretsMiddleware, kmsSecrets, loadSecrets } from 'middy-kms-secrets/lite'
import type { SecureFetchConfig } from './config.ts'

export interface FetchSecrets {
  apiToken: string
  clientCert?: string
  clientKey?: string
}

export type SecretsContext = Context & FetchSecrets

/** Where each secret comes from, keyed as {@link FetchSecrets}. */
export type FetchSecretsData = { readonly [K in keyof FetchSecrets]: string }

export const secretsFetchData = (
  config: Pick<SecureFetchConfig, 'clientTlsFile'>,
): FetchSecretsData => {
  const file = config.clientTlsFile
  return {
    apiToken: 'API_TOKEN',
    ...(file !== undefined && { clientCert: `file:${file}#cert`, clientKey: `file:${file}#key` }),
  }
}

export interface SecretsHooks {
  /** A decrypt round took `ms`; reported once, within the next invocation (for its metrics). */
  onDecrypted(ms: number): void
  /** The INIT-phase prefetch succeeded (e.g. to build the TLS client before the first call). */
  onPrefetched?(secrets: FetchSecrets): void
}

/**
 * `kmsSecrets` (prefetch during INIT, once per container, secrets set on `context`), plus the
 * duration of each decrypt round. The prefetch round is timed by joining it through
 * `loadSecrets` with the same options object, which shares the middleware's single-flight
 * round; a round started by an invocation (the prefetch failed) is timed around the middleware.
 * Typed on the plain `Context`: callers (the runtime, tests) do not bring the secrets; the handler
 * reads them as {@link SecretsContext}.
 */
export const secretsMiddleware = (
  config: Pick<SecureFetchConfig, 'clientTlsFile'>,
  hooks: SecretsHooks,
): KmsSecretsMiddleware<FetchSecretsData, undefined, false> => {
  const options = {
    fetchData: secretsFetchData(config),
    setToContext: true,
    // Defence in depth: were a plaintext ever logged, it would be masked.
    redactLogs: true,
  } as const
  const inner = kmsSecrets(options)
  const started = performance.now()
  let prefetchSettled = false
  let unreported: number | undefined
  const prefetch = loadSecrets(options).then(
    (values) => {
      prefetchSettled = true
      unreported = performance.now() - started
      try {
        hooks.onPrefetched?.(values)
      } catch {
        // The first invocation does the same work again and reports its error.
      }
    },
    (error: unknown) => {
      prefetchSettled = true // not reported: the invocation retries and answers the error
      return error
    },
  )
  const report = () => {
    if (unreported === undefined) return
    hooks.onDecrypted(unreported)
    unreported = undefined
  }
  const before = inner.before as (request: unknown) => Promise<void> | undefined
  return {
    /** Settles (never rejects, with the round's error if any) when the INIT round and its onPrefetched hook are done. */
    ready: () => prefetch,
    before: (request) => {
      const pending = before(request)
      if (pending === undefined) return report() // warm: secrets already on the context
      const joined = !prefetchSettled
      const roundStarted = performance.now()
      return pending.then(() => {
        if (!joined) unreported = performance.now() - roundStarted
        report()
      })
    },
  }
}
