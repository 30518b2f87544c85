export { ErrorCode, KmsSecretsError } from './errors.ts'
export { loadSecrets } from './load-secrets.ts'
export {
  type KmsSecretsMiddleware,
  type KmsSecretsOptions,
  kmsSecrets,
  kmsSecretsDefaults,
} from './middleware.ts'
export {
  clearCache,
  defaults,
  type FetchData,
  FUNCTION_NAME_OVERRIDE,
  type LoadSecretsOptions,
  type Secrets,
  type Transform,
  type TransformOption,
} from './options.ts'
