// The faces on a KMS kit, as both entries make them (src/index.ts: the AWS SDK's;
// src/lite.ts: LiteKmsClient).
import type { KmsKit } from '../core/kms.ts'
import { defaults } from '../core/options.ts'
import { loadSecretsWith } from './load-secrets.ts'
import { kmsSecretsDefaults, kmsSecretsWith } from './middleware.ts'

/** The faces and their public defaults, on a client class and its Decrypt command. */
export const facesOn = <K extends KmsKit>(kit: K) => ({
  defaults: { ...defaults, AwsClient: kit.AwsClient },
  kmsSecretsDefaults: { ...kmsSecretsDefaults, AwsClient: kit.AwsClient },
  kmsSecrets: kmsSecretsWith(kit),
  loadSecrets: loadSecretsWith(kit),
})
