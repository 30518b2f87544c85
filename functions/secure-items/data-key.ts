// The data key: which env var holds it (for kmsSecrets), how long its decryption took
// (a metric, once per cold start), and its hand-over to the routes as a DataKey whose
// bytes sit in a KeyObject (nothing that logs or serializes the context can show them).

import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import type { MiddlewareObj } from '@middy/core'
import type { Context } from 'aws-lambda'
import { loadSecrets } from 'middy-kms-secrets'
import { type DataKey, importDataKey } from './crypto.ts'

/** kmsSecrets options: DATA_KEY holds the KMS CiphertextBlob of 32 random bytes. */
export const dataKeySecrets = {
  fetchData: { dataKey: 'DATA_KEY' },
  transform: { dataKey: 'binary' },
} as const

export type ItemsContext = Context & { dataKey: DataKey }

export const DECRYPT_LATENCY_METRIC = 'DataKeyDecryptLatency'

// One KeyObject per decrypted value (the library hands out the same bytes while cached).
const imported = new WeakMap<Uint8Array, DataKey>()

/**
 * Two middlewares around kmsSecrets(dataKeySecrets):
 * - `timer` (before it): times each decrypt round, from its start (the middleware's
 *   prefetch during INIT, or the invocation that retries after a failed round) until the
 *   key is ready, by awaiting the same single-flight round as the middleware;
 * - `toContext` (after it): reports that time once per container, then puts the key on
 *   `context.dataKey`.
 * Call it before kmsSecrets(dataKeySecrets) so the prefetch is timed from its start.
 */
export const dataKeyMiddlewares = (metrics: Metrics, options = dataKeySecrets) => {
  let startedAt = performance.now()
  let latencyMs: number | undefined
  let reported = false
  let round: Promise<void> | undefined
  const observe = () => {
    round = loadSecrets(options).then(
      () => {
        latencyMs ??= performance.now() - startedAt
      },
      () => {
        round = undefined // failures are not cached: the next invocation starts a new round
      },
    )
  }
  observe()

  const timer: MiddlewareObj = {
    before: () => {
      if (latencyMs === undefined && round === undefined) {
        startedAt = performance.now()
        observe()
      }
    },
  }

  const toContext: MiddlewareObj<unknown, unknown, Error, ItemsContext> = {
    before: (request) => {
      const bytes = (request.internal as { dataKey?: unknown }).dataKey
      if (!(bytes instanceof Uint8Array)) throw new Error('kmsSecrets provided no data key')
      if (!reported && latencyMs !== undefined) {
        metrics.addMetric(DECRYPT_LATENCY_METRIC, MetricUnit.Milliseconds, latencyMs)
        reported = true
      }
      let dataKey = imported.get(bytes)
      if (!dataKey) {
        dataKey = importDataKey(bytes)
        imported.set(bytes, dataKey)
      }
      request.context.dataKey = dataKey
    },
  }

  return { timer, toContext }
}
