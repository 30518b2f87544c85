/**
 * Errors of the secure-fetch function mapped to HTTP answers: a stable `code`, a fixed message
 * per code (never an error's own text, which may name hosts or files), and the request id.
 */
import type { MiddlewareObj } from '@middy/core'
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda'
import { KmsSecretsError } from 'middy-kms-secrets'
import { UpstreamError, type UpstreamErrorCode } from './upstream.ts'

/** An error the function raises on purpose, with the answer it deserves. */
export class HttpError extends Error {
  override readonly name = 'HttpError'
  readonly statusCode: number
  readonly code: string

  constructor(statusCode: number, code: string, message: string) {
    super(message)
    this.statusCode = statusCode
    this.code = code
  }
}

export interface ErrorAnswer {
  statusCode: number
  code: string
  message: string
  /** Seconds, for answers worth retrying. */
  retryAfter?: number
}

const UPSTREAM: Record<UpstreamErrorCode, [status: number, message: string]> = {
  TLS_UNTRUSTED: [502, 'the upstream certificate is not trusted'],
  TLS_HOSTNAME: [502, 'the upstream certificate does not match its host name'],
  TLS_EXPIRED: [502, 'the upstream certificate is expired or not yet valid'],
  TLS_PIN_MISMATCH: [502, 'the upstream public key matches no configured pin'],
  TLS_PROTOCOL: [502, 'the upstream does not offer TLS 1.2 or later'],
  TLS_HANDSHAKE: [502, 'the TLS handshake with the upstream failed'],
  NETWORK: [502, 'network error talking to the upstream'],
  RESPONSE_TOO_LARGE: [502, 'the upstream response is too large'],
  CONNECT_TIMEOUT: [504, 'connecting to the upstream timed out'],
  RESPONSE_TIMEOUT: [504, 'the upstream did not answer in time'],
  ABORTED: [504, 'the function deadline came before the upstream answered'],
  INVALID_OPTIONS: [500, 'the upstream client is misconfigured'],
  INVALID_REQUEST: [500, 'the upstream request could not be built'],
}

/** KMS codes worth a retry by the caller (the next invocation decrypts again). */
const TRANSIENT_SECRETS = new Set(['THROTTLED', 'TIMEOUT', 'NETWORK'])

/** What an error becomes for the caller. Never uses the error's message. */
export function errorAnswer(error: unknown): ErrorAnswer {
  if (error instanceof HttpError) {
    return { statusCode: error.statusCode, code: error.code, message: error.message }
  }
  if (error instanceof UpstreamError) {
    const [statusCode, message] = UPSTREAM[error.code]
    const code =
      error.code === 'ABORTED'
        ? 'DEADLINE_EXCEEDED'
        : statusCode === 500
          ? 'UPSTREAM_CONFIG_INVALID'
          : error.code
    return { statusCode, code, message }
  }
  if (error instanceof KmsSecretsError) {
    return TRANSIENT_SECRETS.has(error.code)
      ? {
          statusCode: 503,
          code: 'SECRETS_UNAVAILABLE',
          message: 'the function could not decrypt its secrets, retry later',
          retryAfter: 1,
        }
      : {
          statusCode: 500,
          code: 'SECRETS_UNAVAILABLE',
          message: 'the function could not decrypt its secrets',
        }
  }
  // Middy's own early timeout, just before the Lambda deadline.
  if ((error as Error | undefined)?.name === 'TimeoutError') {
    return {
      statusCode: 504,
      code: 'DEADLINE_EXCEEDED',
      message: 'the function deadline came before the upstream answered',
    }
  }
  return { statusCode: 500, code: 'INTERNAL', message: 'internal error' }
}

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  }
}

/** The few, non-secret, facts about an error worth a log line. */
export function errorFacts(error: unknown): Record<string, string | number> {
  const facts: Record<string, string | number> = {}
  const e = error as { name?: unknown; code?: unknown; nodeCode?: unknown; kmsError?: unknown }
  if (typeof e?.name === 'string') facts.errorName = e.name
  if (typeof e?.code === 'string' || typeof e?.code === 'number') facts.errorCode = e.code
  if (typeof e?.nodeCode === 'string') facts.nodeCode = e.nodeCode
  if (typeof e?.kmsError === 'string') facts.kmsError = e.kmsError
  if (error instanceof KmsSecretsError && error.variable !== undefined) {
    facts.variable = error.variable // a variable or file name, never a value
  }
  return facts
}

interface ErrorLogger {
  warn(message: string, extra: Record<string, unknown>): void
  error(message: string, extra: Record<string, unknown>): void
}

/**
 * Middy `onError`: every error becomes a JSON answer `{ code, message, requestId }`. Upstream
 * failures were logged where they happened (with their duration); the rest is logged here, by
 * code only.
 */
export function errorResponses(
  logger: ErrorLogger,
): MiddlewareObj<unknown, APIGatewayProxyStructuredResultV2, Error, Context> {
  return {
    onError: (request) => {
      if (request.response !== undefined) return
      const answer = errorAnswer(request.error)
      if (!(request.error instanceof UpstreamError)) {
        const log = answer.statusCode >= 500 ? logger.error : logger.warn
        log.call(logger, 'request failed', { ...errorFacts(request.error), answer: answer.code })
      }
      request.response = jsonResponse(
        answer.statusCode,
        { code: answer.code, message: answer.message, requestId: request.context.awsRequestId },
        answer.retryAfter === undefined ? {} : { 'retry-after': String(answer.retryAfter) },
      )
    },
  }
}
