// `middy-kms-secrets/provider`: the Powertools Parameters provider (src/faces/provider.ts).
export {
  type KmsSecretsGetMultipleOptions,
  type KmsSecretsGetOptions,
  KmsSecretsProvider,
  type KmsSecretsProviderOptions,
} from './faces/provider.ts'
