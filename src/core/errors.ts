import { isTransientNetworkError } from './transient.ts'

/** Stable codes callers can branch on. */
export const ErrorCode = {
  MissingVariable: 'MISSING_VARIABLE',
  MalformedValue: 'MALFORMED_VALUE',
  AccessDenied: 'ACCESS_DENIED',
  ContextMismatch: 'CONTEXT_MISMATCH',
  KeyMismatch: 'KEY_MISMATCH',
  KeyDisabled: 'KEY_DISABLED',
  Throttled: 'THROTTLED',
  Timeout: 'TIMEOUT',
  Network: 'NETWORK',
  Tampered: 'TAMPERED',
  KmsError: 'KMS_ERROR',
  InvalidOptions: 'INVALID_OPTIONS',
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

export interface KmsSecretsErrorDetails {
  /** The env var (or `file:` source) the error is about. */
  variable?: string | undefined
  /** The AWS error name KMS answered with, when there was one. */
  kmsError?: string | undefined
  requestId?: string | undefined
}

/**
 * The one error this library throws. Its message names the variable and the likely
 * cause; it never holds the plaintext or the ciphertext. The AWS error is not kept as
 * `cause`: an SDK error can carry the raw HTTP response, and a Decrypt response holds
 * the plaintext.
 */
export class KmsSecretsError extends Error {
  override readonly name = 'KmsSecretsError'
  readonly code: ErrorCode
  readonly variable: string | undefined
  readonly kmsError: string | undefined
  readonly requestId: string | undefined

  constructor(code: ErrorCode, message: string, details: KmsSecretsErrorDetails = {}) {
    super(details.variable === undefined ? message : `${details.variable}: ${message}`)
    this.code = code
    this.variable = details.variable
    this.kmsError = details.kmsError
    this.requestId = details.requestId
  }

  toJSON() {
    const { name, code, message, variable, kmsError, requestId } = this
    return { name, code, message, variable, kmsError, requestId }
  }
}

const TRANSIENT: ReadonlySet<string> = new Set([
  ErrorCode.Throttled,
  ErrorCode.Timeout,
  ErrorCode.Network,
])

/**
 * Whether a failure of this library is worth a retry later (KMS throttled, the deadline
 * passed, the network failed): the next call decrypts again, as no failure is cached.
 */
export const isTransient = (error: unknown): boolean =>
  error instanceof KmsSecretsError && TRANSIENT.has(error.code)

interface AwsLikeError {
  name?: unknown
  message?: unknown
  code?: unknown
  $metadata?: { requestId?: unknown; httpStatusCode?: unknown }
  /** Where a connection failed: LiteKmsClient sets `host`; Node sets the others. */
  host?: unknown
  hostname?: unknown
  address?: unknown
  port?: unknown
}

/** The host a failed connection was for, as far as the error says (never a secret). */
const hostOf = ({ host, hostname, address, port }: AwsLikeError): string | undefined => {
  if (typeof host === 'string') return host
  if (typeof hostname === 'string') return hostname
  if (typeof address !== 'string') return undefined
  return typeof port === 'number' ? `${address}:${port}` : address
}

const kmsErrorCodes: Record<string, [ErrorCode, string]> = {
  AccessDeniedException: [
    ErrorCode.AccessDenied,
    'KMS denied Decrypt: the role lacks kms:Decrypt on the key, its encryption-context condition does not match, or (with a keyId pin) the value was encrypted under another key',
  ],
  InvalidCiphertextException: [
    ErrorCode.ContextMismatch,
    'KMS rejected the ciphertext: most likely it was encrypted for another function name or encryption context (check LambdaFunctionName / KMS_SECRETS_FUNCTION_NAME), or under another key or account, or the value was altered',
  ],
  IncorrectKeyException: [
    ErrorCode.KeyMismatch,
    'the value was encrypted under a key other than the keyId pin',
  ],
  NotFoundException: [
    ErrorCode.KeyMismatch,
    'the key named by keyId (or its alias) does not exist',
  ],
  InvalidKeyUsageException: [ErrorCode.KeyMismatch, 'the key cannot decrypt (wrong key usage)'],
  DisabledException: [ErrorCode.KeyDisabled, 'the KMS key is disabled'],
  KMSInvalidStateException: [
    ErrorCode.KeyDisabled,
    'the KMS key is not usable (disabled, pending deletion or pending import)',
  ],
  KeyUnavailableException: [ErrorCode.KeyDisabled, 'the KMS key is unavailable'],
  ThrottlingException: [
    ErrorCode.Throttled,
    'KMS throttled Decrypt (account request quota); retries were exhausted',
  ],
  LimitExceededException: [ErrorCode.Throttled, 'KMS request limit exceeded'],
  CredentialsProviderError: [
    ErrorCode.AccessDenied,
    "no AWS credentials could be loaded for KMS (the AWS SDK's credential providers found none, or failed)",
  ],
}

/**
 * LiteKmsClient's credentials failure, named as the SDK names its own. Its message is ours
 * (what was read, and why it failed), so the library keeps it; an SDK credential error's
 * message is not kept: it can quote what an endpoint answered.
 */
export class CredentialsError extends Error {
  override readonly name = 'CredentialsProviderError'
}

/** Maps anything the KMS client throws to a KmsSecretsError with a stable code. */
export const fromKmsError = (error: unknown, variable: string): KmsSecretsError => {
  if (error instanceof KmsSecretsError) return error
  if (error instanceof CredentialsError) {
    return new KmsSecretsError(ErrorCode.AccessDenied, error.message, {
      variable,
      kmsError: error.name,
    })
  }
  const failure = (error ?? {}) as AwsLikeError
  const { name, message, code, $metadata } = failure
  const kmsError = typeof name === 'string' ? name : undefined
  const requestId = typeof $metadata?.requestId === 'string' ? $metadata.requestId : undefined
  const details = { variable, kmsError, requestId }
  // Own entries only: the SDK names an error after what the endpoint answers, and
  // "constructor" or "toString" must not find Object.prototype members.
  const key = kmsError as string
  const known = Object.hasOwn(kmsErrorCodes, key) ? kmsErrorCodes[key] : undefined
  if (known) return new KmsSecretsError(known[0], known[1], details)
  if (kmsError === 'AbortError' || kmsError === 'TimeoutError') {
    return new KmsSecretsError(ErrorCode.Timeout, 'KMS did not answer in time', details)
  }
  if (isTransientNetworkError(error)) {
    const host = hostOf(failure)
    const at = host === undefined ? '' : ` at ${host}`
    return new KmsSecretsError(ErrorCode.Network, `could not reach KMS${at} (${code})`, details)
  }
  // The SDK's words (from its region resolver), and LiteKmsClient's.
  if (message === 'Region is missing') {
    return new KmsSecretsError(
      ErrorCode.MissingVariable,
      'no AWS region for KMS: AWS_REGION is not set (Lambda sets it; elsewhere set it or awsClientOptions.region)',
      details,
    )
  }
  const status = $metadata?.httpStatusCode
  return new KmsSecretsError(
    ErrorCode.KmsError,
    `KMS call failed${kmsError ? ` (${kmsError}${status ? `, HTTP ${status}` : ''})` : ''}`,
    details,
  )
}
