// `middy-kms-secrets/lite`: the library on LiteKmsClient, for functions that need no
// other AWS client: the AWS SDK is never imported, so its load leaves the cold start.

import type { KmsKit } from './kms.ts'
import { DecryptCommand, LiteKmsClient } from './lite-client.ts'
import { loadSecretsWith } from './load-secrets.ts'
import { kmsSecretsWith, kmsSecretsDefaults as middlewareDefaults } from './middleware.ts'
import { defaults as coreDefaults } from './options.ts'

export { ErrorCode, KmsSecretsError } from './errors.ts'
export { DecryptCommand, LiteKmsClient } from './lite-client.ts'
export type { KmsSecretsOptions } from './middleware.ts'
export {
  clearCache,
  type FetchData,
  FUNCTION_NAME_OVERRIDE,
  type LoadSecretsOptions,
  type Secrets,
  type Transform,
  type TransformOption,
} from './options.ts'

const liteKit: KmsKit = { AwsClient: LiteKmsClient, DecryptCommand }

export const defaults = { ...coreDefaults, AwsClient: LiteKmsClient }
export const kmsSecretsDefaults = { ...middlewareDefaults, AwsClient: LiteKmsClient }

/** `kmsSecrets` of the main entry, decrypting with LiteKmsClient. */
export const kmsSecrets = kmsSecretsWith(liteKit)

/** `loadSecrets` of the main entry, decrypting with LiteKmsClient. */
export const loadSecrets = loadSecretsWith(liteKit)
