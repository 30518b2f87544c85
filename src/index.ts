// `middy-kms-secrets`: the library on the AWS SDK's KMS client.
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms'
import type { KmsKit } from './core/kms.ts'
import { defaults as coreDefaults } from './core/options.ts'
import { loadSecretsWith } from './faces/load-secrets.ts'
import { kmsSecretsWith, kmsSecretsDefaults as middlewareDefaults } from './faces/middleware.ts'

export * from './faces/exports.ts'

const sdkKit: KmsKit = { AwsClient: KMSClient, DecryptCommand }

export const defaults = { ...coreDefaults, AwsClient: KMSClient }
export const kmsSecretsDefaults = { ...middlewareDefaults, AwsClient: KMSClient }

/**
 * Middy middleware: decrypts the KMS-encrypted environment variables named in
 * `fetchData` once per cold start and hands the plaintexts to the handler through
 * `request.internal` (read them with Middy's `getInternal`) or `context`.
 */
export const kmsSecrets = kmsSecretsWith(sdkKit)

/**
 * The middleware's core without Middy: decrypts once (per `cacheExpiry`) and then
 * resolves from cache. Call it in the handler. To complete the round within INIT (as
 * `kmsSecrets(...).ready()` does), also `await loadSecrets(options).catch(() => {})` at the
 * module's top level: a failure is never cached, the handler's call retries and reports it.
 */
export const loadSecrets = loadSecretsWith(sdkKit)
