// The loader: what the middleware and loadSecrets share. Options over their defaults, one
// decrypt round (src/core/decrypt.ts) behind a cache, one loader per cacheKey.
import { type DecryptRound, decryptSecrets, type Env, parseSource, type Wanted } from './decrypt.ts'
import { ErrorCode, KmsSecretsError } from './errors.ts'
import type { KmsClient, KmsKit } from './kms.ts'
import {
  type AnyLoadSecretsOptions,
  checkOptions,
  defaults,
  invalid,
  isPlainObject,
  type LoadSecretsOptions,
  optionNames,
  type RoundReport,
  withDefaults,
} from './options.ts'
import { guardSecrets } from './redact.ts'

/** Share of `cacheExpiry` after which the background refresh starts. */
const REFRESH_AHEAD = 0.8

/**
 * Holds one set of secrets for the life of the container (or `cacheExpiry` ms).
 * - Single flight: concurrent callers share the one decrypt round in flight.
 * - Failures are never stored: the next call starts a new round.
 * - Past its expiry a value is never served (fail closed); a timer refreshes it in
 *   the background ahead of that expiry, so while KMS answers no invocation waits.
 */
export class SecretsCache<V> {
  readonly #fetch: () => Promise<V>
  readonly #cacheExpiry: number
  #value: V | undefined
  #expiry = 0
  #inflight: Promise<V> | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(fetch: () => Promise<V>, cacheExpiry: number) {
    this.#fetch = fetch
    this.#cacheExpiry = cacheExpiry
  }

  /** The cached value if fresh, synchronously: the warm path costs no promise. */
  peek(): V | undefined {
    // Checked first so the default (cacheExpiry -1) reads no clock on the warm path.
    // Stryker disable next-line ConditionalExpression: without it, Infinity > Date.now() answers the same
    if (this.#expiry === Number.POSITIVE_INFINITY) return this.#value
    if (this.#expiry > Date.now()) return this.#value
    return undefined
  }

  get(): Promise<V> {
    const fresh = this.peek()
    if (fresh !== undefined) return Promise.resolve(fresh)
    this.#inflight ??= this.#refresh()
    return this.#inflight
  }

  clear(): void {
    clearTimeout(this.#timer)
    this.#value = undefined
    this.#expiry = 0
  }

  async #refresh(): Promise<V> {
    try {
      const value = await this.#fetch()
      if (this.#cacheExpiry !== 0) this.#store(value)
      return value
    } finally {
      this.#inflight = undefined
    }
  }

  #store(value: V): void {
    this.#value = value
    clearTimeout(this.#timer)
    if (this.#cacheExpiry === -1) {
      this.#expiry = Number.POSITIVE_INFINITY
      return
    }
    this.#expiry = Date.now() + this.#cacheExpiry
    // Refresh ahead: the value stays served until its own expiry, and a refresh that
    // failed leaves it to expire then (the next call retries inline). A refresh due at
    // the expiry itself would make the invocation arriving then wait for KMS.
    this.#timer = setTimeout(
      () => {
        this.#inflight ??= this.#refresh()
        this.#inflight.catch(() => {})
      },
      Math.floor(this.#cacheExpiry * REFRESH_AHEAD),
    ).unref()
  }
}

export interface SecretsLoader<V> {
  cache: SecretsCache<V>
  cacheExpiry: number
  /** Told of each round (kmsSecrets' onRound): one per middleware sharing these secrets. */
  onRound: Set<(report: RoundReport) => void>
}

/** Overrides AWS_LAMBDA_FUNCTION_NAME, e.g. under `sam local invoke`, whose name differs. */
export const FUNCTION_NAME_OVERRIDE = 'KMS_SECRETS_FUNCTION_NAME'

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

const toEnvString = (value: unknown): string => {
  if (typeof value === 'string') return value
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  return JSON.stringify(value)
}

/** The options as the loader uses them: every default applied once. */
type Resolved = ReturnType<typeof resolve>
const resolve = (options: AnyLoadSecretsOptions) => withDefaults(defaults, options)

/** The round options ask for, the function name read now: it may be set after module init. */
export const roundOf = (
  config: Pick<Resolved, 'encryptionContext' | 'bindVariableName' | 'keyId' | 'timeout'>,
  client: KmsClient,
  DecryptCommand: KmsKit['DecryptCommand'],
  wanted: readonly Wanted[],
): DecryptRound => {
  const env = process.env
  return {
    wanted,
    client,
    DecryptCommand,
    encryptionContext: encryptionContextOf(config.encryptionContext, env),
    bindVariableName: config.bindVariableName,
    keyId: config.keyId,
    timeoutMs: config.timeout,
    env,
  }
}

const createLoader = (config: Resolved, kit: KmsKit): SecretsLoader<Record<string, unknown>> => {
  const wanted = wantedOf(config)
  const AwsClient = config.AwsClient ?? kit.AwsClient
  // A copy: the client never holds the caller's object.
  const client = new AwsClient({ ...config.awsClientOptions })
  // Counted here, not in the core: rounds of one loader never overlap (single flight).
  let kmsCalls = 0
  const counted: KmsClient = {
    send: (command, options) => {
      kmsCalls += 1
      return client.send(command, options)
    },
  }
  const onRound = new Set<(report: RoundReport) => void>()
  const report = (startedAt: number, started: number, callsBefore: number, error: unknown) => {
    const durationMs = performance.now() - started
    const done = { startedAt, durationMs, secrets: wanted.length, kmsCalls: kmsCalls - callsBefore }
    for (const listener of onRound) {
      try {
        listener({ ...done, error })
      } catch {
        // A metric or trace that fails must not fail the secrets.
      }
    }
  }
  const fetch = async () => {
    const [startedAt, started, callsBefore] = [Date.now(), performance.now(), kmsCalls]
    try {
      const values = await decryptSecrets(roundOf(config, counted, kit.DecryptCommand, wanted))
      if (config.redactLogs) guardSecrets(Object.values(values))
      if (config.setToEnv) {
        for (const [key, value] of Object.entries(values)) process.env[key] = toEnvString(value)
      }
      report(startedAt, started, callsBefore, undefined)
      return values
    } catch (error) {
      report(startedAt, started, callsBefore, error)
      throw error
    }
  }
  return {
    cache: new SecretsCache(fetch, config.cacheExpiry),
    cacheExpiry: config.cacheExpiry,
    onRound,
  }
}

interface LoaderEntry {
  /** As given, or defaults.cacheKey for the loaders whose key comes from their options. */
  cacheKey: string
  signature: string
  loader: SecretsLoader<Record<string, unknown>>
}

const loaders = new Map<string, LoaderEntry>()

/** By key: keys are unique, so no two compare equal. */
// Code-unit order, not localeCompare: that loads ICU's collation data, ~15 ms at INIT.
const byFirst = ([a]: readonly unknown[], [b]: readonly unknown[]) =>
  // Stryker disable next-line EqualityOperator: keys never compare equal, and a reversed order is as canonical
  (a as string) < (b as string) ? -1 : 1

/** The same JSON whatever the order keys were written in. */
const sortedKeys = (_key: string, value: unknown) =>
  isPlainObject(value) ? Object.fromEntries(Object.entries(value).sort(byFirst)) : value

/** What makes two option sets the same secrets (functions and clients aside), defaults applied. */
const signatureOf = (config: Resolved): string =>
  JSON.stringify(
    [
      wantedOf(config)
        .map(({ key, source, transform }) => [key, source, transform ?? null])
        .sort(byFirst),
      config.cacheExpiry,
      config.encryptionContext ?? null,
      config.bindVariableName,
      config.keyId ?? null,
      config.setToEnv,
      config.redactLogs,
    ],
    sortedKeys,
  )

const byOptions = new WeakMap<object, SecretsLoader<Record<string, unknown>>>()

/**
 * One loader per cacheKey, shared like Middy's cache: a second middleware or loadSecrets()
 * call with the same options reuses the decrypted values. Without a cacheKey the key is
 * derived from the options, so different option sets never collide; an explicit cacheKey
 * reused with other options is an error. The same options object (the usual module-scope
 * constant) skips even the lookup.
 */
export const secretsLoader = <V extends Record<string, unknown>>(
  options: AnyLoadSecretsOptions,
  kit: KmsKit,
): SecretsLoader<V> => {
  const known = byOptions.get(options)
  if (known) return known as SecretsLoader<V>
  checkOptions(options, optionNames)
  const config = resolve(options)
  const signature = signatureOf(config)
  const { cacheKey } = config
  const mapKey = options.cacheKey ?? `${cacheKey}\0${signature}`
  const entry = loaders.get(mapKey)
  if (entry && entry.signature !== signature) {
    throw invalid(
      `cacheKey "${cacheKey}" is already used with other options: give each its own cacheKey`,
    )
  }
  const loader = entry?.loader ?? createLoader(config, kit)
  loaders.set(mapKey, { cacheKey, signature, loader })
  byOptions.set(options, loader)
  return loader as SecretsLoader<V>
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
