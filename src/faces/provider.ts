import { BaseProvider } from '@aws-lambda-powertools/parameters/base'
import { DecryptCommand, KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms'
import {
  decryptSecrets,
  fieldValue,
  parseBundle,
  parseSource,
  type Transform,
  type ValueOf,
} from '../core/decrypt.ts'
import { ErrorCode, KmsSecretsError } from '../core/errors.ts'
import { roundOf } from '../core/loader.ts'
import { checkOptions, defaults, type LoadSecretsOptions, withDefaults } from '../core/options.ts'
import { guardSecrets } from '../core/redact.ts'

export interface KmsSecretsProviderOptions
  extends Pick<
    LoadSecretsOptions,
    'encryptionContext' | 'bindVariableName' | 'keyId' | 'timeout' | 'redactLogs'
  > {
  awsSdkV3Client?: KMSClient
  clientConfig?: KMSClientConfig
}

/** Powertools' get options, with this library's transforms. */
export interface KmsSecretsGetOptions {
  /** Seconds a value stays cached. Default: the life of the container. */
  maxAge?: number
  forceFetch?: boolean
  /** `'json'`: parsed; `'binary'`: the plaintext bytes. Default: UTF-8 text. */
  transform?: Transform
  /** Types only: a missing variable always throws MISSING_VARIABLE. */
  throwOnMissing?: boolean
}

export interface KmsSecretsGetMultipleOptions extends Omit<KmsSecretsGetOptions, 'transform'> {
  /** Per field: `'json'` parsed, `'binary'` the bytes of its base64. Default: text. */
  transform?: Transform
  /** A field the transform fails on: throw (true) or leave it undefined (Powertools' default). */
  throwOnTransformError?: boolean
}

/**
 * What a value is: the caller's type if given (`get<MyType>(...)`, as in Powertools), else
 * what the transform yields. `never` marks "not given" (Powertools uses `undefined`, which
 * would also swallow an explicit `unknown`).
 */
type GetValue<T, O> = [T] extends [never]
  ? O extends { transform: 'json' }
    ? unknown
    : O extends { transform: 'binary' }
      ? Uint8Array
      : string
  : T
/** As Powertools types it: undefined is possible unless throwOnMissing is true. */
type MaybeUndefined<V, O> = O extends { throwOnMissing: true } ? V : V | undefined

/**
 * Env vars do not change within a container, so values are kept for its life unless
 * the caller passes `maxAge` (Powertools' own default, 5 s, would call KMS again and again).
 */
const FOREVER_SECONDS = 2 ** 31

const providerOptionNames = [
  'encryptionContext',
  'bindVariableName',
  'keyId',
  'timeout',
  'redactLogs',
  'awsSdkV3Client',
  'clientConfig',
]
const getOptionNames = ['maxAge', 'forceFetch', 'transform', 'throwOnMissing']
const getMultipleOptionNames = [...getOptionNames, 'throwOnTransformError']

/**
 * Powertools Parameters provider over the same decrypt core: `get('API_TOKEN')` (or any
 * source: `VAR#field`, `file:path`), `getMultiple('BUNDLE_VAR')` for all fields of a
 * bundle, with `maxAge`, `forceFetch` and `transform` as Powertools users know them.
 * Caching and transforms are this library's (BaseProvider's store, its own keys), so every
 * failure reaches the caller as the KmsSecretsError the other faces throw, not wrapped.
 */
export class KmsSecretsProvider extends BaseProvider {
  declare protected client: KMSClient
  readonly #options: ReturnType<typeof withDefaults<typeof defaults, KmsSecretsProviderOptions>>
  /** Single flight: concurrent calls for one cache entry share one KMS call. */
  readonly #inflight = new Map<string, Promise<unknown>>()

  constructor(options: KmsSecretsProviderOptions = {}) {
    checkOptions(options, providerOptionNames)
    super({
      awsSdkV3Client: options.awsSdkV3Client,
      clientConfig: options.clientConfig,
      awsSdkV3ClientPrototype: KMSClient as new (config?: unknown) => unknown,
    })
    this.#options = withDefaults(defaults, options)
  }

  /** `get<MyType>('CONFIG', { transform: 'json' })`: `MyType | undefined`, as in Powertools. */
  override get<T = never, O extends KmsSecretsGetOptions = KmsSecretsGetOptions>(
    name: string,
    options?: O,
  ): Promise<MaybeUndefined<GetValue<T, O>, O>> {
    return this.#cached(false, name, getOptionNames, options, () => this._get(name, options))
  }

  override getMultiple<
    T = never,
    O extends KmsSecretsGetMultipleOptions = KmsSecretsGetMultipleOptions,
  >(path: string, options?: O): Promise<Record<string, GetValue<T, O>> | undefined> {
    return this.#cached(true, path, getMultipleOptionNames, options, () =>
      this._getMultiple(path, options),
    )
  }

  protected async _get(name: string, options?: KmsSecretsGetOptions): Promise<unknown> {
    return this.#decrypt(name, options?.transform)
  }

  protected async _getMultiple(
    path: string,
    options?: KmsSecretsGetMultipleOptions,
  ): Promise<Record<string, unknown>> {
    const { transform, throwOnTransformError } = options ?? {}
    const bundle = parseBundle(await this.#decrypt(path, undefined), path)
    const fields = Object.entries(bundle).map(([field, text]): [string, unknown] => {
      try {
        return [field, fieldValue(text, transform, `${path}#${field}`)]
      } catch (error) {
        if (throwOnTransformError) throw error
        return [field, undefined]
      }
    })
    return Object.fromEntries(fields)
  }

  /** BaseProvider's store, under keys of its own: get and getMultiple never share one. */
  async #cached<V>(
    multiple: boolean,
    name: string,
    names: readonly string[],
    options: KmsSecretsGetOptions | undefined,
    load: () => Promise<unknown>,
  ): Promise<V> {
    checkOptions(options ?? {}, names)
    const key = JSON.stringify([multiple, name, options?.transform ?? null])
    if (!options?.forceFetch && !this.hasKeyExpiredInCache(key)) {
      return this.store.get(key)?.value as V
    }
    let pending = this.#inflight.get(key)
    if (!pending) {
      pending = load().finally(() => this.#inflight.delete(key))
      this.#inflight.set(key, pending)
    }
    const value = await pending
    this.addToCache(key, value as string, options?.maxAge ?? FOREVER_SECONDS)
    return value as V
  }

  async #decrypt<T extends Transform | undefined>(
    source: string,
    transform: T,
  ): Promise<ValueOf<T>> {
    if (typeof source !== 'string') {
      throw new KmsSecretsError(ErrorCode.InvalidOptions, 'the name to get must be a string')
    }
    const wanted = [{ key: 'value', source: parseSource(source), transform }]
    const values = await decryptSecrets(roundOf(this.#options, this.client, DecryptCommand, wanted))
    if (this.#options.redactLogs) guardSecrets([values.value])
    return values.value as ValueOf<T>
  }
}
