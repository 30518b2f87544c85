// Errors of the secure-fetch function mapped to HTTP answers: a stable `code`, a fixed message
// per code (never an error's own text, which may name hosts or files), and the request id.
import type { Metrics } from '@aws-lambda-powertools/metrics'
import { isTransient, KmsSecretsError } from 'middy-kms-secrets/lite'
import { type ErrorAnswer, type ErrorLogger, HttpError, httpErrors } from '../shared/http.ts'
import { UpstreamError, type UpstreamErrorCode } from './upstream.ts'

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

/** What an error becomes for the caller. Never uses the error's message. */
export const errorAnswer = (error: unknown): ErrorAnswer => {
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
    const transient = isTransient(error)
    return {
      statusCode: transient ? 503 : 500,
      code: 'SECRETS_UNAVAILABLE',
      message: `the function could not decrypt its secrets${transient ? ', retry later' : ''}`,
      ...(transient && { retryAfter: 1 }),
    }
  }
  // Middy's own early timeout, just before the Lambda deadline: answered as the upstream's.
  if ((error as Error | undefined)?.name === 'TimeoutError') {
    return errorAnswer(new UpstreamError('ABORTED'))
  }
  return { statusCode: 500, code: 'INTERNAL', message: 'internal error' }
}

/** The few, non-secret, facts about an error worth a log line. */
export const errorFacts = (error: unknown): Record<string, string | number> => {
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

/**
 * Errors -> JSON `{ code, message, requestId }`. Upstream failures were logged where they
 * happened (with their duration); the rest is logged here, by code only.
 */
export const errorResponses = (options: {
  logger: ErrorLogger
  metrics: Pick<Metrics, 'addMetric'>
}) => {
  return httpErrors({
    ...options,
    classify: (error, context) => {
      const answer = errorAnswer(error)
      return {
        ...answer,
        body: { requestId: context.awsRequestId },
        ...(!(error instanceof UpstreamError) && {
          log: { ...errorFacts(error), answer: answer.code },
        }),
      }
    },
  })
}
