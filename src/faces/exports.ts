// What both entries export besides their wiring (src/index.ts: the AWS SDK; src/lite.ts:
// LiteKmsClient), written once.

export { ErrorCode, isTransient, KmsSecretsError } from '../core/errors.ts'
export { clearCache, FUNCTION_NAME_OVERRIDE } from '../core/loader.ts'
export type {
  FetchData,
  LoadSecretsOptions,
  RoundReport,
  Secrets,
  Transform,
  TransformOption,
} from '../core/options.ts'
export {
  isTransientNetworkError,
  THROTTLING_ERRORS,
  TRANSIENT_NETWORK_CODES,
} from '../core/transient.ts'
export type { KmsSecretsMiddleware, KmsSecretsOptions } from './middleware.ts'
