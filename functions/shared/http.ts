// HTTP answers of the sample functions (API Gateway HTTP API, payload 2.0): the JSON
// response, the error a function raises on purpose, and the Middy onError middleware
// that turns any error into a JSON answer through the function's own `classify`.
// What an error means stays in each function (its errors.ts); only the plumbing is here.

import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import type { MiddlewareObj } from '@middy/core'
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda'

export interface HttpResponse {
  statusCode: number
  headers: Record<string, string>
  body: string
}

const HEADERS = {
  'content-type': 'application/json',
  // A response may hold a decrypted secret: no cache may keep it.
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const

export const jsonResponse = (
  statusCode: number,
  body: unknown,
  headers?: Record<string, string>,
): HttpResponse => ({
  statusCode,
  headers: { ...HEADERS, ...headers },
  body: JSON.stringify(body),
})

/** An error a function raises on purpose, with the answer it deserves. */
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

/** What an error becomes: never built from the error's own message (it may hold input). */
export interface ErrorAnswer {
  statusCode: number
  /** Stable, machine-readable. */
  code: string
  /** Fixed text per code. */
  message: string
  /** Seconds, for answers worth retrying: sent as Retry-After. */
  retryAfter?: number
  /** More fields of the JSON body, after `code` and `message`. */
  body?: Record<string, unknown>
  /** Fields of the `request failed` log line; none: no line (logged where it happened). */
  log?: Record<string, unknown>
}

/**
 * Counted once for every 5xx answer, whatever its cause, with Powertools' default
 * dimension `service`: the canary's rollback alarm (a handled 5xx is no Lambda error).
 */
export const SERVER_ERROR_METRIC = 'ServerError'

export interface ErrorLogger {
  warn(message: string, extra: Record<string, unknown>): void
  error(message: string, extra: Record<string, unknown>): void
}

/**
 * Middy middleware: every error becomes `jsonResponse(statusCode, { code, message, ...body })`
 * as `classify` says (called once per failed request), logged as a warning (4xx) or an error
 * (5xx); every 5xx answer, an error's or one the handler returned, counts one ServerError.
 */
export const httpErrors = ({
  logger,
  metrics,
  classify,
}: {
  logger: ErrorLogger
  metrics: Pick<Metrics, 'addMetric'>
  classify: (error: unknown, context: Context) => ErrorAnswer
}): MiddlewareObj<unknown, APIGatewayProxyStructuredResultV2, Error, Context> => {
  const count = (statusCode = 0) => {
    if (statusCode >= 500) metrics.addMetric(SERVER_ERROR_METRIC, MetricUnit.Count, 1)
  }
  return {
    after: (request) => count(request.response?.statusCode),
    onError: (request) => {
      if (request.response !== undefined) return
      const { statusCode, code, message, retryAfter, body, log } = classify(
        request.error,
        request.context,
      )
      if (log) (statusCode >= 500 ? logger.error : logger.warn).call(logger, 'request failed', log)
      count(statusCode)
      request.response = jsonResponse(
        statusCode,
        { code, message, ...body },
        retryAfter ? { 'retry-after': String(retryAfter) } : undefined,
      )
    },
  }
}
