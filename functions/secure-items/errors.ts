// Errors -> HTTP responses, as one Middy onError middleware: a JSON body with a stable
// `code` and a fixed message, logged with what an operator needs and nothing else.
// Never in a response or a log line: the request body, the item's secret (clear or
// sealed), the data key, an SDK error's own fields (they can hold request data).

import type { Logger } from '@aws-lambda-powertools/logger'
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import type { MiddlewareObj } from '@middy/core'
import { DataKeyError, type SealedValueError } from './crypto.ts'
import { jsonResponse, type Response } from './response.ts'

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

const KMS_RETRYABLE = new Set(['THROTTLED', 'TIMEOUT', 'NETWORK'])

interface Mapped {
  statusCode: number
  code: string
  message: string
  details?: Array<{ path: string; message: string }>
  /** What goes to the log, besides the mapped status and code. */
  log: Record<string, unknown>
  level: 'warn' | 'error'
}

const awsFields = (
  error: Error & { $metadata?: { requestId?: unknown; httpStatusCode?: unknown } },
) => ({
  errorName: error.name,
  awsRequestId: error.$metadata?.requestId,
  httpStatusCode: error.$metadata?.httpStatusCode,
})

const map = (error: unknown): Mapped => {
  if (!(error instanceof Error)) {
    return { statusCode: 500, code: 'INTERNAL', message: 'internal error', log: {}, level: 'error' }
  }
  if (error instanceof HttpError) {
    return {
      statusCode: error.statusCode,
      code: error.code,
      message: error.message,
      log: { reason: error.message },
      level: error.statusCode >= 500 ? 'error' : 'warn',
    }
  }
  if (error.name === 'ParseError') {
    const details = describeIssues((error as { cause?: unknown }).cause)
    return {
      statusCode: 400,
      code: 'INVALID_REQUEST',
      message: 'invalid request',
      details,
      log: { issues: details },
      level: 'warn',
    }
  }
  if (error instanceof IntegrityError) {
    return {
      statusCode: 500,
      code: 'ITEM_INTEGRITY',
      message: 'the stored item failed its integrity check',
      log: { owner: error.owner, id: error.id, reason: error.reason },
      level: 'error',
    }
  }
  if (error instanceof DataKeyError) {
    return {
      statusCode: 500,
      code: 'MISCONFIGURED',
      message: 'internal error',
      log: { reason: error.message },
      level: 'error',
    }
  }
  if (error.name === 'KmsSecretsError') {
    // Its message, code and variable never hold the plaintext or ciphertext (library contract).
    const { code, variable, kmsError, requestId } = error as Error & Record<string, unknown>
    const retryable = KMS_RETRYABLE.has(String(code))
    return {
      statusCode: retryable ? 503 : 500,
      code: retryable ? 'UNAVAILABLE' : 'INTERNAL',
      message: retryable ? 'service temporarily unavailable, retry later' : 'internal error',
      log: {
        reason: error.message,
        kmsSecretsCode: code,
        variable,
        kmsError,
        awsRequestId: requestId,
      },
      level: 'error',
    }
  }
  if (error.name === 'ConditionalCheckFailedException') {
    return {
      statusCode: 409,
      code: 'ITEM_EXISTS',
      message: 'an item with this owner and id already exists',
      log: awsFields(error),
      level: 'warn',
    }
  }
  if (AWS_RETRYABLE.has(error.name)) {
    return {
      statusCode: 503,
      code: 'UNAVAILABLE',
      message: 'service temporarily unavailable, retry later',
      log: awsFields(error),
      level: 'error',
    }
  }
  // Anything else: the error's name and where it was thrown, not its message (an SDK
  // marshalling error, for one, quotes the value it could not convert).
  return {
    statusCode: 500,
    code: 'INTERNAL',
    message: 'internal error',
    log: { ...awsFields(error), at: error.stack?.split('\n').slice(1, 4).join(' <- ').trim() },
    level: 'error',
  }
}

/** Metric per error code, e.g. `Error_ITEM_INTEGRITY`: alarms can target tampering alone. */
export const errorMetricName = (code: string): string => `Error_${code}`

export const httpErrors = (options: {
  logger: Logger
  metrics: Metrics
}): MiddlewareObj<unknown, Response> => ({
  onError: (request) => {
    if (request.response !== undefined) return
    const mapped = map(request.error)
    const { statusCode, code, message, details } = mapped
    options.logger[mapped.level]('request failed', { statusCode, code, ...mapped.log })
    options.metrics.addMetric(errorMetricName(code), MetricUnit.Count, 1)
    request.response = jsonResponse(
      statusCode,
      details ? { code, message, details } : { code, message },
    )
  },
})
