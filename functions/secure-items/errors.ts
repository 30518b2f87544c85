// What an error means for secure-items: a stable `code`, a fixed message and the log
// fields an operator needs, for the shared Middy onError middleware (../shared/http.ts).
// Never in a response or a log line: the request body, the item's secret (clear or
// sealed), the data key, an SDK error's own fields (they can hold request data).

import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import { isTransient } from 'middy-kms-secrets'
import { type ErrorAnswer, type ErrorLogger, HttpError, httpErrors } from '../shared/http.ts'
import { DataKeyError, type SealedValueError } from './crypto.ts'

/** A stored item's sealed attribute did not open: raised by the routes with the item key. */
export class IntegrityError extends Error {
  override readonly name = 'IntegrityError'
  readonly owner: string
  readonly id: string
  readonly reason: SealedValueError['reason']
  constructor(owner: string, id: string, cause: SealedValueError) {
    super(`item ${JSON.stringify(owner)}/${JSON.stringify(id)}: ${cause.message}`)
    this.owner = owner
    this.id = id
    this.reason = cause.reason
  }
}

interface Issue {
  readonly message: string
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined
}

const MAX_ISSUES = 10

/** `body.owner: owner must be a string`, from Standard Schema issues (no input in them). */
const describeIssues = (cause: unknown): Array<{ path: string; message: string }> => {
  if (!Array.isArray(cause)) return []
  return (cause as Issue[]).slice(0, MAX_ISSUES).map((issue) => ({
    path: (issue.path ?? [])
      .map((part) => String(typeof part === 'object' ? part.key : part))
      .join('.'),
    message: String(issue.message),
  }))
}

const AWS_RETRYABLE = new Set([
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ThrottlingException',
])

const awsFields = (
  error: Error & { $metadata?: { requestId?: unknown; httpStatusCode?: unknown } },
) => ({
  errorName: error.name,
  awsRequestId: error.$metadata?.requestId,
  httpStatusCode: error.$metadata?.httpStatusCode,
})

const INTERNAL = { statusCode: 500, code: 'INTERNAL', message: 'internal error' }
const UNAVAILABLE = {
  statusCode: 503,
  code: 'UNAVAILABLE',
  message: 'service temporarily unavailable, retry later',
}

/** `log`: what goes to the log besides the status and code. */
const errorAnswer = (error: unknown): ErrorAnswer & { log: Record<string, unknown> } => {
  if (!(error instanceof Error)) return { ...INTERNAL, log: {} }
  if (error instanceof HttpError) {
    return {
      statusCode: error.statusCode,
      code: error.code,
      message: error.message,
      log: { reason: error.message },
    }
  }
  if (error.name === 'ParseError') {
    const details = describeIssues((error as { cause?: unknown }).cause)
    return {
      statusCode: 400,
      code: 'INVALID_REQUEST',
      message: 'invalid request',
      body: { details },
      log: { issues: details },
    }
  }
  if (error instanceof IntegrityError) {
    return {
      statusCode: 500,
      code: 'ITEM_INTEGRITY',
      message: 'the stored item failed its integrity check',
      log: { owner: error.owner, id: error.id, reason: error.reason },
    }
  }
  if (error instanceof DataKeyError) {
    return { ...INTERNAL, code: 'MISCONFIGURED', log: { reason: error.message } }
  }
  if (error.name === 'KmsSecretsError') {
    // Its message, code and variable never hold the plaintext or ciphertext (library contract).
    const { code, variable, kmsError, requestId } = error as Error & Record<string, unknown>
    return {
      ...(isTransient(error) ? UNAVAILABLE : INTERNAL),
      log: {
        reason: error.message,
        kmsSecretsCode: code,
        variable,
        kmsError,
        awsRequestId: requestId,
      },
    }
  }
  if (error.name === 'ConditionalCheckFailedException') {
    return {
      statusCode: 409,
      code: 'ITEM_EXISTS',
      message: 'an item with this owner and id already exists',
      log: awsFields(error),
    }
  }
  if (AWS_RETRYABLE.has(error.name)) return { ...UNAVAILABLE, log: awsFields(error) }
  // Anything else: the error's name and where it was thrown, not its message (an SDK
  // marshalling error, for one, quotes the value it could not convert).
  return {
    ...INTERNAL,
    log: { ...awsFields(error), at: error.stack?.split('\n').slice(1, 4).join(' <- ').trim() },
  }
}

/** Metric per error code, e.g. `Error_ITEM_INTEGRITY`: alarms can target tampering alone. */
export const errorMetricName = (code: string): string => `Error_${code}`

/**
 * Errors -> JSON `{ code, message[, details] }`, logged with the status and code; each one
 * also counted by code (ServerError, for every 5xx, comes from the shared middleware).
 */
export const errorResponses = (options: {
  logger: ErrorLogger
  metrics: Pick<Metrics, 'addMetric'>
}) =>
  httpErrors({
    ...options,
    classify: (error) => {
      const answer = errorAnswer(error)
      const { statusCode, code } = answer
      options.metrics.addMetric(errorMetricName(code), MetricUnit.Count, 1)
      return { ...answer, log: { statusCode, code, ...answer.log } }
    },
  })
