import type { Transform, ValueOf } from './decrypt.ts'
import { ErrorCode, KmsSecretsError } from './errors.ts'
import type { KmsClientConfig, KmsKit } from './kms.ts'
import { closest } from './suggest.ts'

export type { Transform } from './decrypt.ts'

/** Internal key -> source: `VAR`, `VAR#field`, `file:path` or `file:path#field`. */
export type FetchData = Readonly<Record<string, string>>
export type TransformOption<F extends FetchData> =
  | Transform
  | { readonly [K in keyof F]?: Transform }

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
  awsClientOptions?: KmsClientConfig
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

/** What one decrypt round did, for a metric or a trace: times and counts, never a name or value. */
export interface RoundReport {
  /** When the round started, in ms since the epoch. */
  startedAt: number
  /** How long it took, in ms. */
  durationMs: number
  /** Values asked for: the keys of `fetchData`. */
  secrets: number
  /** KMS requests sent: one per env var or file, whatever its fields (0 if a local check failed). */
  kmsCalls: number
  /** Why the round failed (a `KmsSecretsError`), or undefined when it succeeded. */
  error: unknown
}

/** Any options, whatever their type parameters: what the untyped internals take. */
export type AnyLoadSecretsOptions = Omit<LoadSecretsOptions, 'transform'> & {
  transform?: Transform | { readonly [key: string]: Transform | undefined } | undefined
}

type Defaulted = 'cacheExpiry' | 'cacheKey' | 'setToEnv' | 'awsClientOptions' | 'bindVariableName'
type Defaults = Required<Pick<LoadSecretsOptions, Defaulted | 'timeout' | 'redactLogs'>> &
  Pick<LoadSecretsOptions, 'encryptionContext' | 'keyId'>

/** The defaults but `AwsClient`, which each entry point adds (src/index.ts, src/lite.ts). */
export const defaults: Defaults = {
  cacheExpiry: -1,
  cacheKey: 'kms-secrets',
  setToEnv: false,
  awsClientOptions: {},
  encryptionContext: undefined,
  bindVariableName: false,
  keyId: undefined,
  timeout: 5000,
  redactLogs: false,
}

/**
 * Options over their defaults, merged once as Middy does (`{ ...defaults, ...options }`),
 * but an option given as undefined keeps its default.
 */
export const withDefaults = <D extends object, O extends object>(
  defaultValues: D,
  options: O,
): Omit<O, keyof D> & D => {
  const given = Object.entries(options).filter(([, value]) => value !== undefined)
  return { ...defaultValues, ...Object.fromEntries(given) } as Omit<O, keyof D> & D
}

export const invalid = (message: string) => new KmsSecretsError(ErrorCode.InvalidOptions, message)

/** setTimeout's limit: a longer delay fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** An object literal (or a null-prototype / JSON.parse'd one): not an array, class or function. */
export const isPlainObject = (value: unknown): value is Readonly<Record<string, unknown>> => {
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

const unknownName = (what: string, name: string, known: readonly string[]): string => {
  // A near miss: the same letters in another case, or 1-2 edits away.
  const near = closest(name, known, 2)
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
  onRound: optional((value) => typeof value === 'function', 'a function'),
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
 * joins the middleware's round), so loadSecrets accepts, and checks, the middleware's own.
 */
export const optionNames = [
  'fetchData',
  'transform',
  ...Object.keys(defaults),
  'AwsClient',
  'disablePrefetch',
  'setToContext',
  'onRound',
]
