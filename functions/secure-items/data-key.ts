// The data key: which env var holds it (for kmsSecrets), and its hand-over to the routes as a
// DataKey whose bytes sit in a KeyObject (nothing that logs or serializes the context can show
// them).

import type { MiddlewareObj } from '@middy/core'
import type { Context } from 'aws-lambda'
import type { RoundReport } from 'middy-kms-secrets'
import { type DataKey, importDataKey } from './crypto.ts'

/** kmsSecrets options: DATA_KEY holds the KMS CiphertextBlob of 32 random bytes. */
export const secretsOptions = (onRound: (report: RoundReport) => void, cacheExpiry: number) =>
  ({
    fetchData: { dataKey: 'DATA_KEY' },
    transform: { dataKey: 'binary' },
    cacheExpiry,
    onRound,
  }) as const

export type ItemsContext = Context & { dataKey: DataKey }

export const DECRYPT_LATENCY_METRIC = 'DataKeyDecryptLatency'

// One KeyObject per decrypted value (the library hands out the same bytes while cached).
const imported = new WeakMap<Uint8Array, DataKey>()

/** After kmsSecrets: puts the key on `context.dataKey`. */
export const dataKeyToContext: MiddlewareObj<unknown, unknown, Error, ItemsContext> = {
  before: (request) => {
    const bytes = (request.internal as { dataKey?: unknown }).dataKey
    if (!(bytes instanceof Uint8Array)) throw new Error('kmsSecrets provided no data key')
    let dataKey = imported.get(bytes)
    if (!dataKey) {
      dataKey = importDataKey(bytes)
      imported.set(bytes, dataKey)
    }
    request.context.dataKey = dataKey
  },
}
