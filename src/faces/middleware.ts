import type { MiddlewareObj, Request } from '@middy/core'
import type { Context } from 'aws-lambda'
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

/** What `kmsSecrets` returns: a Middy middleware, plus `ready()`. */
export type KmsSecretsMiddleware<F extends FetchData, T, C extends boolean> = MiddlewareObj<
  unknown,
  unknown,
  Error,
  C extends true ? Context & Secrets<F, T> : Context,
  Secrets<F, T>
> & {
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
    let layered: { values: Secrets<F, T>; internal: Layer; context: Layer } | undefined
    const assign = (request: Request, values: Secrets<F, T>): undefined => {
      if (layered?.values !== values) {
        layered = { values, internal: layerOf(values), context: layerOf(values) }
      }
      toInternal(request, layered.internal)
      if (setToContext) toContext(request.context, values, layered.context)
    }
    const kmsSecretsBefore = (request: Request): Promise<void> | undefined => {
      const values = cache.peek()
      // Warm path: synchronous, so Middy does not even await it.
      if (values !== undefined) return assign(request, values)
      return cache.get().then((fresh) => assign(request, fresh))
    }
    return { before: kmsSecretsBefore, ready: () => prefetch } as KmsSecretsMiddleware<F, T, C>
  }

/** The values as one object under a given prototype, made again only when that changes. */
interface Layer {
  keys: readonly string[]
  over(base: object | null): object
  /** Whether `proto` is this layer, the last made: the target already has the values. */
  is(proto: object | null): boolean
}

/** Every layer made, by any kmsSecrets: a context already layered is copied into instead. */
const layers = new WeakSet<object>()

const layerOf = (values: object): Layer => {
  // Descriptors, not assignment: a key such as "__proto__" stays a plain property.
  const descriptors = Object.getOwnPropertyDescriptors(values)
  let last: { base: object | null; layer: object } | undefined
  return {
    keys: Object.keys(values),
    over(base) {
      if (last?.base !== base) {
        last = { base, layer: Object.create(base, descriptors) as object }
        layers.add(last.layer)
      }
      return last.layer
    },
    is: (proto) => proto === last?.layer,
  }
}

/**
 * Warm invocations must cost the same whatever N: copying N values into Middy's
 * null-prototype store is O(N) (~15 µs at N = 50). Middy makes a fresh store per
 * request, so it is replaced by one whose prototype holds the values: O(1). What
 * was already in it (other middlewares, Middy's `internal` option) is kept.
 */
const toInternal = (request: Request, layer: Layer): void => {
  const store = request.internal as object
  const base = Object.getPrototypeOf(store) as object | null
  if (layer.is(base)) return // this middleware twice in one chain
  const fresh = Object.create(layer.over(base)) as object
  // Every own key, symbols and non-enumerable ones too: what other middlewares put there stays.
  // Copying none changes nothing, but the check spares the usual empty store that cost (~150 ns).
  if (Reflect.ownKeys(store).length > 0) {
    Object.defineProperties(fresh, Object.getOwnPropertyDescriptors(store))
  }
  request.internal = fresh as Request['internal']
}

/** Up to this many values, copying them is cheaper than a prototype swap (npm run bench). */
const COPY_MAX = 4

/**
 * `context` is the runtime's object and cannot be replaced: a few values are copied
 * onto it, more go in as its prototype (O(1), ~300 ns), where `context.apiToken`
 * still reads them. A context that is frozen, or already holds a layer (the same
 * context invoked twice, another kmsSecrets), is copied into.
 */
const toContext = (context: object, values: object, layer: Layer): void => {
  // A few values: assigning them beats any look at the prototype (throws on a frozen context).
  if (layer.keys.length <= COPY_MAX) {
    copyInto(context, values, layer.keys)
    return
  }
  const base = Object.getPrototypeOf(context) as object | null
  if (layer.is(base)) return
  // WeakSet.has(null) is false: a context without a prototype holds no layer.
  if (layers.has(base as object) || !Object.isExtensible(context)) {
    copyInto(context, values, layer.keys)
    return
  }
  Object.setPrototypeOf(context, layer.over(base))
}

/** Plain assignment, key by key: cheaper than Object.assign for a handful of checked names. */
const copyInto = (target: object, values: object, keys: readonly string[]): void => {
  for (const key of keys) {
    ;(target as Record<string, unknown>)[key] = (values as Record<string, unknown>)[key]
  }
}
