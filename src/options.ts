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

/** setTimeout's limit: a longer delay fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** An object literal (or a null-prototype / JSON.parse'd one): not an array, class or function. */
const isPlainObject = (value: unknown): value is Readonly<Record<string, unknown>> => {
  if (typeof value !== 'object' || value === null) return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/**
 * Names an object built from them must not hold: `__proto__` sets the prototype instead of a
 * property, and the other members of Object.prototype (`constructor`, `toString`...) or
 * `prototype` would shadow what callers of that object rely on.
 */
export const isUnsafeName = (name: string): boolean =>
  name in Object.prototype || name === 'prototype'

/** The closest known name, for a near miss: same letters in another case, or 1-2 edits away. */
const closest = (name: string, known: readonly string[]): string | undefined => {
  const distance = (a: string, b: string): number => {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j)
    for (let i = 1; i <= a.length; i++) {
      const next = [i]
      for (let j = 1; j <= b.length; j++) {
        const cost = a[i - 1] === b[j - 1] ? 0 : 1
        next[j] = Math.min(
          (row[j] as number) + 1,
          (next[j - 1] as number) + 1,
          (row[j - 1] as number) + cost,
        )
      }
      row = next
    }
    return row[b.length] as number
  }
  const scored = known.map((candidate) => ({
    candidate,
    score: candidate.toLowerCase() === name.toLowerCase() ? 0 : distance(name, candidate),
  }))
  // Never empty: option names, or the internal keys of a fetchData that has some.
  const best = scored.sort((a, b) => a.score - b.score)[0] as (typeof scored)[number]
  return best.score <= 2 ? best.candidate : undefined
}

const unknownName = (what: string, name: string, known: readonly string[]): string => {
  const near = closest(name, known)
  return `unknown ${what} "${name}"${near === undefined ? '' : ` (did you mean "${near}"?)`}`
}

type Check = (value: unknown, options: Readonly<Record<string, unknown>>) => string | undefined

const TRANSFORMS: readonly unknown[] = ['json', 'binary']
const transformProblem = (value: unknown): string | undefined =>
  TRANSFORMS.includes(value) ? undefined : "must be 'json' or 'binary' (or left out for UTF-8 text)"

const fetchDataProblem: Check = (value) => {
  if (!isPlainObject(value) || Object.keys(value).length === 0) {
    return 'must be an object mapping at least one internal key to an environment variable'
  }
  for (const [key, source] of Object.entries(value)) {
    if (key === '' || isUnsafeName(key)) {
      return `key "${key}" cannot be an internal key (empty, or a name of Object.prototype)`
    }
    if (typeof source !== 'string' || source === '') {
      return `"${key}" must name its source as a non-empty string`
    }
  }
  return undefined
}

const transformOptionProblem: Check = (value, options) => {
  // Per internal key only where there are internal keys (not for the provider's get).
  if (!isPlainObject(value) || !isPlainObject(options.fetchData)) {
    return value === undefined ? undefined : transformProblem(value)
  }
  const keys = Object.keys(options.fetchData)
  for (const [key, transform] of Object.entries(value)) {
    if (!keys.includes(key)) return unknownName('internal key', key, keys)
    const problem = transform === undefined ? undefined : transformProblem(transform)
    if (problem) return `"${key}" ${problem}`
  }
  return undefined
}

const optional =
  (check: (value: unknown) => boolean, expected: string): Check =>
  (value) =>
    value === undefined || check(value) ? undefined : `must be ${expected}`

const boolean = optional((value) => typeof value === 'boolean', 'true or false')
const nonEmptyString = optional(
  (value) => typeof value === 'string' && value !== '',
  'a non-empty string',
)
const plainObject = optional(isPlainObject, 'an object')

/** One check per option name, for JavaScript callers whom no type stops. */
const checks: Readonly<Record<string, Check>> = {
  fetchData: fetchDataProblem,
  transform: transformOptionProblem,
  cacheExpiry: optional(
    (value) =>
      Number.isInteger(value) && (value as number) >= -1 && (value as number) <= MAX_TIMER_MS,
    `-1 (forever), 0 (no cache) or a whole number of ms up to ${MAX_TIMER_MS}`,
  ),
  cacheKey: nonEmptyString,
  setToEnv: boolean,
  AwsClient: optional((value) => typeof value === 'function', 'a KMS client class'),
  awsClientOptions: plainObject,
  encryptionContext: optional(
    (value) =>
      value === false ||
      (isPlainObject(value) &&
        Object.entries(value).every(([key, text]) => key !== '' && typeof text === 'string')),
    'false or an object of strings',
  ),
  bindVariableName: boolean,
  keyId: nonEmptyString,
  timeout: optional(
    (value) => typeof value === 'number' && value > 0 && value <= MAX_TIMER_MS,
    `a positive number of ms up to ${MAX_TIMER_MS}`,
  ),
  redactLogs: boolean,
  disablePrefetch: boolean,
  setToContext: boolean,
  awsSdkV3Client: optional((value) => typeof value === 'object' && value !== null, 'a KMS client'),
  clientConfig: plainObject,
  maxAge: optional(
    (value) => Number.isFinite(value) && (value as number) >= 0,
    'a number of seconds >= 0',
  ),
  forceFetch: boolean,
  throwOnMissing: boolean,
  throwOnTransformError: boolean,
}

/**
 * Checks options at creation, whatever the caller's types said: an unknown name (with the
 * near miss it probably is), a value out of range. Throws INVALID_OPTIONS naming the option.
 */
export const checkOptions = (options: unknown, names: readonly string[]): void => {
  if (!isPlainObject(options)) throw invalid('options must be an object')
  for (const name of Object.keys(options)) {
    if (!names.includes(name)) throw invalid(unknownName('option', name, names))
  }
  for (const name of names) {
    const problem = (checks[name] as Check)(options[name], options)
    if (problem) throw invalid(`${name} ${problem}`)
  }
}

/**
 * What the middleware and loadSecrets take: one options object may serve both (the loader
 * joins the middleware's round), so loadSecrets accepts, and checks, the middleware's two.
 */
const optionNames = [
  'fetchData',
  'transform',
  ...Object.keys(defaults),
  'AwsClient',
  'disablePrefetch',
  'setToContext',
]

export const encryptionContextOf = (
  option: LoadSecretsOptions['encryptionContext'],
  env: Env,
): Record<string, string> => {
  // Stryker disable next-line ConditionalExpression,BooleanLiteral: the spread below makes {} of false too (and true never passes checkOptions)
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

const wantedOf = ({ fetchData, transform }: AnyLoadSecretsOptions): Wanted[] =>
  Object.entries(fetchData).map(([key, text]) => ({
    key,
    source: parseSource(text),
    transform: typeof transform === 'string' ? transform : transform?.[key],
  }))

const toEnvString = (value: SecretValue): string => {
  if (typeof value === 'string') return value
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  return JSON.stringify(value)
}

const createLoader = (
  options: AnyLoadSecretsOptions,
  kit: KmsKit,
): SecretsLoader<Record<string, SecretValue>> => {
  const cacheExpiry = options.cacheExpiry ?? defaults.cacheExpiry
  const timeout = options.timeout ?? defaults.timeout
  const wanted = wantedOf(options)
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

interface LoaderEntry {
  /** As given, or defaults.cacheKey for the loaders whose key comes from their options. */
  cacheKey: string
  signature: string
  loader: SecretsLoader<Record<string, SecretValue>>
}

const loaders = new Map<string, LoaderEntry>()

/** By key: keys are unique, so no two compare equal. */
// Code-unit order, not localeCompare: that loads ICU's collation data, ~15 ms at INIT.
const byFirst = ([a]: readonly unknown[], [b]: readonly unknown[]) =>
  (a as string) < (b as string) ? -1 : 1

/** The same JSON whatever the order keys were written in. */
const sortedKeys = (_key: string, value: unknown) =>
  isPlainObject(value) ? Object.fromEntries(Object.entries(value).sort(byFirst)) : value

/** What makes two option sets the same secrets (functions and clients aside), defaults applied. */
const signatureOf = (options: AnyLoadSecretsOptions): string =>
  JSON.stringify(
    [
      wantedOf(options)
        .map(({ key, source, transform }) => [key, source, transform ?? null])
        .sort(byFirst),
      options.cacheExpiry ?? defaults.cacheExpiry,
      options.encryptionContext ?? null,
      options.bindVariableName ?? defaults.bindVariableName,
      options.keyId ?? null,
      options.setToEnv ?? defaults.setToEnv,
      options.redactLogs ?? defaults.redactLogs,
    ],
    sortedKeys,
  )

const byOptions = new WeakMap<object, SecretsLoader<Record<string, SecretValue>>>()

/**
 * One loader per cacheKey, shared like Middy's cache: a second middleware or loadSecrets()
 * call with the same options reuses the decrypted values. Without a cacheKey the key is
 * derived from the options, so different option sets never collide; an explicit cacheKey
 * reused with other options is an error. The same options object (the usual module-scope
 * constant) skips even the lookup.
 */
export const secretsLoader = <V>(options: AnyLoadSecretsOptions, kit: KmsKit): SecretsLoader<V> => {
  const known = byOptions.get(options)
  if (known) return known as unknown as SecretsLoader<V>
  checkOptions(options, optionNames)
  const signature = signatureOf(options)
  const cacheKey = options.cacheKey ?? defaults.cacheKey
  const mapKey = options.cacheKey ?? `${defaults.cacheKey}\0${signature}`
  const entry = loaders.get(mapKey)
  if (entry && entry.signature !== signature) {
    throw invalid(
      `cacheKey "${cacheKey}" is already used with other options: give each its own cacheKey`,
    )
  }
  const loader = entry?.loader ?? createLoader(options, kit)
  loaders.set(mapKey, { cacheKey, signature, loader })
  byOptions.set(options, loader)
  return loader as unknown as SecretsLoader<V>
}

/**
 * Forgets cached secrets (all, or one cacheKey; `defaults.cacheKey` names every loader without
 * its own): the next call decrypts again.
 */
export const clearCache = (cacheKey?: string): void => {
  for (const entry of loaders.values()) {
    if (cacheKey === undefined || entry.cacheKey === cacheKey) entry.loader.cache.clear()
  }
}
