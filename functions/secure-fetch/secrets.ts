// The secrets of secure-fetch, decrypted by the library's `kmsSecrets` middleware once per
// container: the API token (env var `API_TOKEN`, a KMS blob) and, for mutual TLS, the client
// certificate and key read from one envelope secrets file (`CLIENT_TLS_FILE`, a bundle with the
// fields `cert` and `key`): one KMS call for the file, in parallel with the token's.
import type { Context } from 'aws-lambda'
import {
  type KmsSecretsMiddleware,
  kmsSecrets,
  loadSecrets,
  type RoundReport,
} from 'middy-kms-secrets/lite'
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

/** kmsSecrets options: the secrets on `context`, and masked in logs should one ever be logged. */
export const secretsOptions = (
  config: Pick<SecureFetchConfig, 'clientTlsFile' | 'cacheExpiry'>,
  onRound: (report: RoundReport) => void,
) =>
  ({
    fetchData: secretsFetchData(config),
    cacheExpiry: config.cacheExpiry,
    setToContext: true,
    redactLogs: true,
    onRound,
  }) as const

/**
 * kmsSecrets on these options. Typed on the plain `Context`: callers (the runtime, tests) do
 * not bring the secrets; the handler reads them as {@link SecretsContext}.
 */
export const secretsMiddleware = (
  options: ReturnType<typeof secretsOptions>,
): KmsSecretsMiddleware<FetchSecretsData, undefined, false> =>
  kmsSecrets(options) as KmsSecretsMiddleware<FetchSecretsData, undefined, false>

/**
 * Once the INIT round is over, hands its secrets (from the cache: no KMS call) to `use`. A
 * failure of the round or of `use` is left to the first invocation, which retries and answers it.
 */
export const afterPrefetch = async (
  middleware: Pick<KmsSecretsMiddleware<FetchSecretsData, undefined, false>, 'ready'>,
  options: ReturnType<typeof secretsOptions>,
  use: (secrets: FetchSecrets) => void,
): Promise<void> => {
  if ((await middleware.ready()) !== undefined) return
  try {
    use(await loadSecrets(options))
  } catch {}
}
