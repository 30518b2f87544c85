import { BaseProvider } from '@aws-lambda-powertools/parameters/base'
import type {
  GetMultipleOptionsInterface,
  GetOptionsInterface,
} from '@aws-lambda-powertools/parameters/base/types'
import { DecryptCommand, KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms'
import { decryptSecrets, parseBundle, type SecretValue } from './decrypt.ts'
import { defaults, encryptionContextOf, type LoadSecretsOptions } from './options.ts'
import { guardSecrets } from './redact.ts'
import { parseSource } from './sources.ts'

export interface KmsSecretsProviderOptions
  extends Pick<
    LoadSecretsOptions,
    'encryptionContext' | 'bindVariableName' | 'keyId' | 'timeout' | 'redactLogs'
  > {
  awsSdkV3Client?: KMSClient
  clientConfig?: KMSClientConfig
}

/**
 * Env vars do not change within a container, so values are kept for its life unless
 * the caller passes `maxAge` (Powertools' own default, 5 s, would call KMS again and again).
 */
const FOREVER_SECONDS = 2 ** 31

type GetOptions = Omit<GetOptionsInterface, 'transform'> & { transform?: 'json' | 'binary' }
type GetValue<O> = O extends { transform: 'json' } ? unknown : string

/**
 * Powertools Parameters provider over the same decrypt core: `get('API_TOKEN')` (or any
 * source: `VAR#field`, `file:path`), `getMultiple('BUNDLE_VAR')` for all fields of a
 * bundle, with `maxAge`, `forceFetch` and `transform` as Powertools users know them.
 */
export class KmsSecretsProvider extends BaseProvider {
  declare protected client: KMSClient
  readonly #options: KmsSecretsProviderOptions
  /** Single flight: concurrent gets of one source share one KMS call. */
  readonly #inflight = new Map<string, Promise<string>>()

  constructor(options: KmsSecretsProviderOptions = {}) {
    super({
      awsSdkV3Client: options.awsSdkV3Client,
      clientConfig: options.clientConfig,
      awsSdkV3ClientPrototype: KMSClient as new (config?: unknown) => unknown,
    })
    this.#options = options
  }

  override get<O extends GetOptions>(name: string, options?: O): Promise<GetValue<O> | undefined> {
    return super.get(name, { maxAge: FOREVER_SECONDS, ...options }) as Promise<
      GetValue<O> | undefined
    >
  }

  override getMultiple<O extends GetMultipleOptionsInterface>(
    path: string,
    options?: O,
  ): Promise<Record<string, O extends { transform: 'json' } ? unknown : string> | undefined> {
    return super.getMultiple(path, { maxAge: FOREVER_SECONDS, ...options }) as Promise<
      Record<string, O extends { transform: 'json' } ? unknown : string> | undefined
    >
  }

  protected async _get(name: string): Promise<string> {
    let pending = this.#inflight.get(name)
    if (!pending) {
      pending = this.#decrypt(name).finally(() => this.#inflight.delete(name))
      this.#inflight.set(name, pending)
    }
    return pending
  }

  protected async _getMultiple(path: string): Promise<Record<string, string>> {
    return parseBundle(await this._get(path), path)
  }

  async #decrypt(source: string): Promise<string> {
    const env = process.env
    const values: Record<string, SecretValue> = await decryptSecrets({
      wanted: [{ key: 'value', source: parseSource(source), transform: undefined }],
      client: this.client,
      DecryptCommand,
      encryptionContext: encryptionContextOf(this.#options.encryptionContext, env),
      bindVariableName: this.#options.bindVariableName ?? defaults.bindVariableName,
      keyId: this.#options.keyId,
      timeoutMs: this.#options.timeout ?? defaults.timeout,
      env,
    })
    if (this.#options.redactLogs) guardSecrets([values.value])
    return values.value as string
  }
}
