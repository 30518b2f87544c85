// `middy-kms-secrets/lite`: the library on LiteKmsClient, for functions that need no
// other AWS client: the AWS SDK is never imported, so its load leaves the cold start.

import type { KmsKit } from './core/kms.ts'
import { DecryptCommand, LiteKmsClient } from './core/lite-client.ts'
import { defaults as coreDefaults } from './core/options.ts'
import { loadSecretsWith } from './faces/load-secrets.ts'
import { kmsSecretsWith, kmsSecretsDefaults as middlewareDefaults } from './faces/middleware.ts'

export { DecryptCommand, LiteKmsClient } from './core/lite-client.ts'
export * from './faces/exports.ts'

const liteKit: KmsKit = { AwsClient: LiteKmsClient, DecryptCommand }

export const defaults = { ...coreDefaults, AwsClient: LiteKmsClient }
export const kmsSecretsDefaults = { ...middlewareDefaults, AwsClient: LiteKmsClient }

/** `kmsSecrets` of the main entry, decrypting with LiteKmsClient. */
export const kmsSecrets = kmsSecretsWith(liteKit)

/** `loadSecrets` of the main entry, decrypting with LiteKmsClient. */
export const loadSecrets = loadSecretsWith(liteKit)
