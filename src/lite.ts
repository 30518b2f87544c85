// `middy-kms-secrets/lite`: the library on LiteKmsClient, for functions that need no
// other AWS client: the AWS SDK is never imported, so its load leaves the cold start.
import { DecryptCommand, LiteKmsClient } from './core/lite-client.ts'
import { facesOn } from './faces/entry.ts'

export { DecryptCommand, LiteKmsClient } from './core/lite-client.ts'
export * from './faces/exports.ts'

const faces = facesOn({ AwsClient: LiteKmsClient, DecryptCommand })

export const { defaults, kmsSecretsDefaults } = faces

/** `kmsSecrets` of the main entry, decrypting with LiteKmsClient. */
export const kmsSecrets = faces.kmsSecrets

/** `loadSecrets` of the main entry, decrypting with LiteKmsClient. */
export const loadSecrets = faces.loadSecrets
