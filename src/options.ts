import type { KMSClientConfig } from '@aws-sdk/client-kms'
import { SecretsCache } from './cache.ts'
import { decryptSecrets, type SecretValue, type Transform, type Wanted } from './decrypt.ts'
import { ErrorCode, KmsSecretsError } from './errors.ts'
import type { KmsKit } from './kms.ts'
import { guardSecrets } from './redact.ts'
import { type Env, parseSource } from './sources.ts'

export type { Transform } from './decrypt.ts'

/** Internal key -> source: `VAR`, `VAR#field`, `file:path` or `file:path#field`. */
export type FetchData = Readonly<Record<string, string>>
export type TransformOption<F extends FetchData> =
  | Transform
  | { readonly [K in keyof F]?: Transform }

type ValueOf<T> = T extends 'json' ? unknown : T extends 'binary' ? Uint8Array : string

/** What a set of options yields: strings, unless `transform` says JSON or binary. */
export type Secrets<F extends FetchData, T = undefined> = {
  -readonly [K in keyof F]: ValueOf<T extends Transform ? T : K extends keyof T ? T[K] : undefined>
}

export interface LoadSecretsOptions<
  F extends FetchData = FetchData,
  T extends TransformOption<F> | undefined = undefined,
> {
  /** Which environment variables (or secrets files) hold encrypted values. */
  fetchData: F
  /** `'json'` or `'binary'` for all, or per internal key. Default: UTF-8 text. */
  transform?: T
  /** -1: once per container (default); 0: no cache; > 0: ms before a refresh. */
  cacheExpiry?: number
  cacheKey?: string
  /** Also write the plaintexts to `process.env` under their internal keys. Opt-in only. */
  setToEnv?: boolean
  /** Default: the SDK's `KMSClient`; from `middy-kms-secrets/lite`, `LiteKmsClient`. */
  AwsClient?: KmsKit['AwsClient']
  awsClientOptions?: KMSClientConfig
  /** Default `{ LambdaFunctionName: <function name> }`; `false` sends none. */
  encryptionContext?: Readonly<Record<string, string>> | false
  /** Bind each variable's name into the context: a ciphertext moved to another variable fails. */
  bindVariableName?: boolean
  /** KeyId pin: KMS rejects ciphertexts under any other key, and the answer is checked. */
  keyId?: string
  /** Deadline in ms for the whole decrypt step; keep it under the function's timeout. */
  timeout?: number
  /** Mask the plaintexts (and their base64/hex/JSON forms) in everything the process logs. */
  redactLogs?: boolean
}

/** Any options, whatever their type parameters: what the untyped internals take. */
export type AnyLoadSecretsOptions = Omit<LoadSecretsOptions, 'transform'> & {
  transform?: Transform | { readonly [key: string]: Transform | undefined } | undefined
}

/** The defaults but `AwsClient`, which each entry point adds (src/sdk.ts, src/lite.ts). */
export const defaults = {
  cacheExpiry: -1,
  cacheKey: 'kms-secrets',
  setToEnv: false,
  awsClientOptions: {},
  encryptionContext: undefined,
  bindVariableName: false,
  keyId: undefined,
  timeout: 5000,
  redactLogs: false,
} satisfies Omit<LoadSecretsOptions, 'fetchData' | 'AwsClient'>

/** Overrides AWS_LAMBDA_FUNCTION_NAME, e.g. under `sam local invoke`, whose name differs. */
export const FUNCTION_NAME_OVERRIDE = 'KMS_SECRETS_FUNCTION_NAME'

export interface SecretsLoader<V> {
  cache: SecretsCache<V>
  cacheExpiry: number
}

const invalid = (message: string) => new KmsSecretsError(ErrorCode.InvalidOptions, message)

const validate = (
  options: AnyLoadSecretsOptions,
): Required<Pick<LoadSecretsOptions, 'cacheExpiry' | 'timeout'>> => {
  const { fetchData, cacheExpiry = defaults.cacheExpiry, timeout = defaults.timeout } = options
  if (typeof fetchData !== 'object' || fetchData === null || Object.keys(fetchData).length === 0) {
    throw invalid('fetchData must map at least one internal key to an environment variable')
  }
  if (!Number.isInteger(cacheExpiry) || cacheExpiry < -1) {
    throw invalid('cacheExpiry must be -1 (forever), 0 (no cache) or a positive number of ms')
  }
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw invalid('timeout must be a positive number of ms')
  }
  return { cacheExpiry, timeout }
}

export const encryptionContextOf = (
  option: LoadSecretsOptions['encryptionContext'],
  env: Env,
): Record<string, string> => {
  if (option === false) return {}
  if (option !== undefined) return { ...option }
  const name = env[FUNCTION_NAME_OVERRIDE] || env.AWS_LAMBDA_FUNCTION_NAME
  if (!name) {
    throw new KmsSecretsError(
      ErrorCode.MissingVariable,
      `no function name for the default encryption context: set ${FUNCTION_NAME_OVERRIDE}, or pass encryptionContext`,
      { variable: 'AWS_LAMBDA_FUNCTION_NAME' },
    )
  }
  return { LambdaFunctionName: name }
}

const toEnvString = (value: SecretValue): string => {
  if (typeof value === 'string') return value
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  return JSON.stringify(value)
}

const createLoader = (
  options: AnyLoadSecretsOptions,
  kit: KmsKit,
): SecretsLoader<Record<string, SecretValue>> => {
  const { cacheExpiry, timeout } = validate(options)
  const { fetchData, transform } = options
  const wanted: Wanted[] = Object.entries(fetchData).map(([key, text]) => ({
    key,
    source: parseSource(text),
    transform: typeof transform === 'string' ? transform : transform?.[key],
  }))
  const AwsClient = options.AwsClient ?? kit.AwsClient
  const client = new AwsClient({ ...defaults.awsClientOptions, ...options.awsClientOptions })
  const fetch = async () => {
    const env = process.env
    const values = await decryptSecrets({
      wanted,
      client,
      DecryptCommand: kit.DecryptCommand,
      encryptionContext: encryptionContextOf(options.encryptionContext, env),
      bindVariableName: options.bindVariableName ?? defaults.bindVariableName,
      keyId: options.keyId,
      timeoutMs: timeout,
      env,
    })
    if (options.redactLogs) guardSecrets(Object.values(values))
    if (options.setToEnv) {
      for (const [key, value] of Object.entries(values)) process.env[key] = toEnvString(value)
    }
    return values
  }
  return { cache: new SecretsCache(fetch, cacheExpiry), cacheExpiry }
}

const loaders = new Map<
  string,
  { signature: string; loader: SecretsLoader<Record<string, SecretValue>> }
>()

/** What makes two option sets the same secrets (functions and clients aside). */
const signatureOf = (options: AnyLoadSecretsOptions): string =>
  JSON.stringify([
    options.fetchData,
    options.transform,
    options.cacheExpiry,
    options.encryptionContext,
    options.bindVariableName,
    options.keyId,
    options.setToEnv,
    options.redactLogs,
  ])

const byOptions = new WeakMap<AnyLoadSecretsOptions, SecretsLoader<Record<string, SecretValue>>>()

/**
 * One loader per cacheKey, shared like Middy's cache: a second middleware or
 * loadSecrets() call with the same cacheKey and options reuses the decrypted values.
 * The same options object (the usual module-scope constant) skips even the lookup.
 */
export const secretsLoader = <V>(options: AnyLoadSecretsOptions, kit: KmsKit): SecretsLoader<V> => {
  let loader = byOptions.get(options)
  if (!loader) {
    const cacheKey = options.cacheKey ?? defaults.cacheKey
    const signature = signatureOf(options)
    const entry = loaders.get(cacheKey)
    if (entry && entry.signature !== signature) {
      throw invalid(
        `cacheKey "${cacheKey}" is already used with other options: give each its own cacheKey`,
      )
    }
    loader = entry?.loader ?? createLoader(options, kit)
    loaders.set(cacheKey, { signature, loader })
    byOptions.set(options, loader)
  }
  return loader as unknown as SecretsLoader<V>
}

/** Forgets cached secrets (all, or one cacheKey): the next call decrypts again. */
export const clearCache = (cacheKey?: string): void => {
  for (const [key, { loader }] of loaders) {
    if (cacheKey === undefined || key === cacheKey) loader.cache.clear()
  }
}
