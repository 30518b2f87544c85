export { ErrorCode, KmsSecretsError } from './errors.ts'
export type { KmsSecretsMiddleware, KmsSecretsOptions } from './middleware.ts'
export {
  clearCache,
  type FetchData,
  FUNCTION_NAME_OVERRIDE,
  type LoadSecretsOptions,
  type Secrets,
  type Transform,
  type TransformOption,
} from './options.ts'
export { defaults, kmsSecrets, kmsSecretsDefaults, loadSecrets } from './sdk.ts'
