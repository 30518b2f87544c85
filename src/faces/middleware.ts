import type { KmsKit } from '../core/kms.ts'
import { secretsLoader } from '../core/loader.ts'
import {
  defaults,
  type FetchData,
  type LoadSecretsOptions,
  type RoundReport,
  type Secrets,
  type TransformOption,
  withDefaults,
} from '../core/options.ts'

export interface KmsSecretsOptions<
  F extends FetchData = FetchData,
  T extends TransformOption<F> | undefined = undefined,
  C extends boolean = false,
> extends LoadSecretsOptions<F, T> {
  /** Default false: decryption starts when the middleware is created, in the INIT phase. */
  disablePrefetch?: boolean
  /** Also put the plaintexts on `context` (default false, as Middy's secret middlewares). */
  setToContext?: C
  /**
   * Called after each decrypt round of these secrets, success or failure, with its duration
   * and KMS call count: for a latency metric or a trace. What it throws is ignored.
   */
  onRound?: (report: RoundReport) => void
}

/** The defaults but `AwsClient`, which each entry point adds (src/index.ts, src/lite.ts). */
export const kmsSecretsDefaults = {
  ...defaults,
  disablePrefetch: false,
  setToContext: false,
  onRound: undefined,
}

/**
 * The part of Middy's request the middleware uses. Structural, so that the package's types
 * need neither `@middy/core` nor `@types/aws-lambda`: Middy's `.use()` takes the middleware
 * and infers the handler's `context` (with the secrets when `setToContext: true`) and
 * `request.internal` from `before`'s parameter.
 */
export interface KmsSecretsRequest<Context, Internal> {
  context: Context
  internal: Internal
}

/**
 * Lambda's `context` as `@types/aws-lambda` declares it (its required members), written out
 * for the same reason. Middy's `.use()` only accepts a middleware whose context is one: an
 * `unknown` or secrets-only context makes it `never` once `@middy/core`'s types resolve whole.
 */
export interface LambdaContext {
  callbackWaitsForEmptyEventLoop: boolean
  functionName: string
  functionVersion: string
  invokedFunctionArn: string
  memoryLimitInMB: string
  awsRequestId: string
  logGroupName: string
  logStreamName: string
  getRemainingTimeInMillis(): number
  done(error?: Error, result?: unknown): void
  fail(error: Error | string): void
  succeed(messageOrObject: unknown): void
  succeed(message: string, object: unknown): void
}

/** What `kmsSecrets` returns: a Middy middleware, plus `ready()`. */
export interface KmsSecretsMiddleware<F extends FetchData, T, C extends boolean> {
  before: (
    request: KmsSecretsRequest<
      C extends true ? LambdaContext & Secrets<F, T> : LambdaContext,
      Secrets<F, T>
    >,
  ) => Promise<void> | undefined
  /**
   * Settles when the decrypt round started at creation has finished: with `undefined`, or
   * with the round's error (it never rejects: a failure is not cached, the next invocation
   * retries and reports it). Await it at the handler module's top level so the round
   * completes within INIT, before provisioned concurrency or a snapshot freezes the environment.
   */
  ready(): Promise<unknown>
}

/** `kmsSecrets` on a given KMS client and command: src/index.ts and src/lite.ts wire one each. */
export const kmsSecretsWith =
  (kit: KmsKit) =>
  <
    const F extends FetchData,
    const T extends TransformOption<F> | undefined = undefined,
    const C extends boolean = false,
  >(
    options: KmsSecretsOptions<F, T, C>,
  ): KmsSecretsMiddleware<F, T, C> => {
    const { cache, cacheExpiry, onRound } = secretsLoader<Secrets<F, T>>(options, kit)
    const { setToContext, disablePrefetch } = withDefaults(kmsSecretsDefaults, options)
    // Per middleware, made once at INIT: loadSecrets (called per invocation) adds none.
    // Stryker disable next-line ConditionalExpression: an undefined listener throws, and report() swallows that
    if (options.onRound) onRound.add(options.onRound)
    // Start during INIT: the function's first invocation finds the secrets ready. A
    // failure here stays in no cache: that invocation decrypts again and reports it.
    const prefetch =
      !disablePrefetch && cacheExpiry !== 0
        ? cache.get().then(
            () => undefined,
            (error: unknown) => error,
          )
        : Promise.resolve(undefined)
    let layer: ContextLayer | undefined
    const assign = (request: KmsSecretsRequest<object, object>, values: object): undefined => {
      // Own enumerable properties, as @middy/ssm and the other fetch middlewares leave them:
      // getInternal(true, request) lists them. Middy's store has no prototype, so even a
      // "__proto__" key would stay a plain property (options refuse that name anyway).
      Object.assign(request.internal, values)
      if (!setToContext) return
      if (layer?.values !== values) layer = contextLayer(values)
      layer.under(request.context)
    }
    const kmsSecretsBefore = (request: KmsSecretsRequest<object, object>) => {
      const values = cache.peek()
      // Warm path: synchronous, so Middy does not even await it.
      if (values !== undefined) return assign(request, values)
      return cache.get().then((fresh) => assign(request, fresh))
    }
    return { before: kmsSecretsBefore, ready: () => prefetch } as KmsSecretsMiddleware<F, T, C>
  }

/** Each layer made, by any kmsSecrets, with the values it holds. */
const layers = new WeakMap<object, object>()

/** Whether `proto` or a prototype above it is a layer holding these values. */
const holds = (proto: object | null, values: object): boolean => {
  // WeakMap.has(null) is false: the walk ends at the first object that is no layer.
  while (layers.has(proto as object)) {
    if (layers.get(proto as object) === values) return true
    proto = Object.getPrototypeOf(proto) as object | null
  }
  return false
}

interface ContextLayer {
  values: object
  /** Puts the values under `context`, as its new prototype. */
  under(context: object): void
}

/**
 * `context` is the runtime's object: the values go in as its prototype, an object made
 * once per prototype it replaces (Object.prototype, warm invocation after warm
 * invocation). `context.apiToken` and destructuring read them; JSON.stringify,
 * util.inspect, Object.keys and spread list own keys only, so a logged context shows
 * none. One swap whatever N (~300 ns); defining N non-enumerable properties on each
 * context instead costs ~170 ns per value, and `%o` would still print them.
 */
const contextLayer = (values: object): ContextLayer => {
  const descriptors = {
    // Descriptors, not assignment: a key such as "__proto__" stays a plain property.
    ...Object.getOwnPropertyDescriptors(values),
    // util.inspect with showHidden (console.log('%o', context)) lists the properties of
    // prototypes up to the first that owns a built-in `constructor`: the layer owns one.
    constructor: { value: Object, writable: true, configurable: true },
  }
  let last: { base: object | null; layer: object } | undefined
  return {
    values,
    under(context) {
      const base = Object.getPrototypeOf(context) as object | null
      // Warm invocations: a fresh context under the prototype the last one had, which holds
      // none of these values (a layer's chain never changes). Else the same context again,
      // this middleware twice, or another with the same cacheKey: the chain grows only by
      // values it does not hold yet.
      if (base !== last?.base) {
        if (holds(base, values)) return
        last = { base, layer: Object.create(base, descriptors) as object }
        layers.set(last.layer, values)
      }
      if (!Reflect.setPrototypeOf(context, last.layer)) {
        throw new TypeError(
          'kmsSecrets: setToContext cannot hand the secrets to a frozen or non-extensible context',
        )
      }
    },
  }
}
