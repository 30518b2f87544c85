// The one table of failures worth a retry, shared by the core's error mapping, the
// `/lite` client's retries and the secure-fetch sample's upstream client.

/** Node `code`s of a connection that failed or broke: the peer may be fine a moment later. */
export const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
])

/** AWS error names that mean "slow down" (what the SDK's standard retry strategy retries). */
export const THROTTLING_ERRORS: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
])

/** Whether an error's `code` is a transient network failure. */
export const isTransientNetworkError = (error: unknown): boolean =>
  TRANSIENT_NETWORK_CODES.has((error as { code?: unknown } | null | undefined)?.code as string)
