// `middy-kms-secrets`: the library on the AWS SDK's KMS client.
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms'
import { facesOn } from './faces/entry.ts'

export * from './faces/exports.ts'

const faces = facesOn({ AwsClient: KMSClient, DecryptCommand })

export const { defaults, kmsSecretsDefaults } = faces

/**
 * Middy middleware: decrypts the KMS-encrypted environment variables named in
 * `fetchData` once per cold start and hands the plaintexts to the handler through
 * `request.internal` (read them with Middy's `getInternal`) or `context`.
 */
export const kmsSecrets = faces.kmsSecrets

/**
 * The middleware's core without Middy: decrypts once (per `cacheExpiry`) and then
 * resolves from cache. Call it in the handler. To complete the round within INIT (as
 * `kmsSecrets(...).ready()` does), also `await loadSecrets(options).catch(() => {})` at the
 * module's top level: a failure is never cached, the handler's call retries and reports it.
 */
export const loadSecrets = faces.loadSecrets
