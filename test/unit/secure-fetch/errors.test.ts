import type { Request } from '@middy/core'
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda'
import { ErrorCode, KmsSecretsError } from 'middy-kms-secrets'
import { describe, expect, it, vi } from 'vitest'
import { errorAnswer, errorFacts, errorResponses } from '../../../functions/secure-fetch/errors.ts'
import { UpstreamError, type UpstreamErrorCode } from '../../../functions/secure-fetch/upstream.ts'
import { HttpError, SERVER_ERROR_METRIC } from '../../../functions/shared/http.ts'

const SECRET = 'tok_do-not-leak-0123456789'

describe('errorAnswer', () => {
  it.each<[UpstreamErrorCode, number, string]>([
    ['TLS_UNTRUSTED', 502, 'TLS_UNTRUSTED'],
    ['TLS_HOSTNAME', 502, 'TLS_HOSTNAME'],
    ['TLS_EXPIRED', 502, 'TLS_EXPIRED'],
    ['TLS_PIN_MISMATCH', 502, 'TLS_PIN_MISMATCH'],
    ['TLS_PROTOCOL', 502, 'TLS_PROTOCOL'],
    ['TLS_HANDSHAKE', 502, 'TLS_HANDSHAKE'],
    ['NETWORK', 502, 'NETWORK'],
    ['RESPONSE_TOO_LARGE', 502, 'RESPONSE_TOO_LARGE'],
    ['CONNECT_TIMEOUT', 504, 'CONNECT_TIMEOUT'],
    ['RESPONSE_TIMEOUT', 504, 'RESPONSE_TIMEOUT'],
    ['ABORTED', 504, 'DEADLINE_EXCEEDED'],
    ['INVALID_OPTIONS', 500, 'UPSTREAM_CONFIG_INVALID'],
    ['INVALID_REQUEST', 500, 'UPSTREAM_CONFIG_INVALID'],
  ])(
    'UpstreamError %s -> %i %s, with a fixed message and no upstream detail',
    (code, status, answerCode) => {
      // Prepare
      const error = new UpstreamError(code, { origin: 'internal.example:8443', nodeCode: 'X_CODE' })

      // Act
      const answer = errorAnswer(error)

      // Assess
      expect(answer.statusCode).toBe(status)
      expect(answer.code).toBe(answerCode)
      expect(answer.message.length).toBeGreaterThan(10)
      expect(answer.message).not.toContain('internal.example')
      expect(answer.message).not.toContain('X_CODE')
    },
  )

  it.each([ErrorCode.Throttled, ErrorCode.Timeout, ErrorCode.Network])(
    'KmsSecretsError %s -> 503 SECRETS_UNAVAILABLE with Retry-After',
    (code) => {
      // Act
      const answer = errorAnswer(new KmsSecretsError(code, 'x', { variable: 'API_TOKEN' }))

      // Assess
      expect(answer).toMatchObject({ statusCode: 503, code: 'SECRETS_UNAVAILABLE', retryAfter: 1 })
    },
  )

  it.each([ErrorCode.AccessDenied, ErrorCode.ContextMismatch, ErrorCode.MissingVariable])(
    'KmsSecretsError %s -> 500 SECRETS_UNAVAILABLE',
    (code) => {
      // Act
      const answer = errorAnswer(new KmsSecretsError(code, 'x', { variable: 'API_TOKEN' }))

      // Assess
      expect(answer).toEqual({
        statusCode: 500,
        code: 'SECRETS_UNAVAILABLE',
        message: 'the function could not decrypt its secrets',
      })
    },
  )

  it('an HttpError answers as it says', () => {
    // Act / Assess
    expect(errorAnswer(new HttpError(405, 'METHOD_NOT_ALLOWED', 'only GET'))).toEqual({
      statusCode: 405,
      code: 'METHOD_NOT_ALLOWED',
      message: 'only GET',
    })
  })

  it("Middy's early timeout -> 504 DEADLINE_EXCEEDED", () => {
    // Prepare
    const error = Object.assign(new Error('[AbortError]: The operation was aborted.'), {
      name: 'TimeoutError',
    })

    // Act / Assess
    expect(errorAnswer(error)).toMatchObject({ statusCode: 504, code: 'DEADLINE_EXCEEDED' })
  })

  it.each([new Error(`boom ${SECRET}`), 'a string', undefined, null])(
    'anything else -> 500 INTERNAL, never its message (%s)',
    (error) => {
      // Act
      const answer = errorAnswer(error)

      // Assess
      expect(answer).toEqual({ statusCode: 500, code: 'INTERNAL', message: 'internal error' })
    },
  )
})

describe('errorFacts', () => {
  it('keeps names and codes only, never a message', () => {
    // Act
    const upstream = errorFacts(new UpstreamError('TLS_EXPIRED', { nodeCode: 'CERT_HAS_EXPIRED' }))
    const kms = errorFacts(
      new KmsSecretsError(ErrorCode.AccessDenied, `denied ${SECRET}`, {
        variable: 'API_TOKEN',
        kmsError: 'AccessDeniedException',
      }),
    )
    const plain = errorFacts(new Error(SECRET))

    // Assess
    expect(upstream).toEqual({
      errorName: 'UpstreamError',
      errorCode: 'TLS_EXPIRED',
      nodeCode: 'CERT_HAS_EXPIRED',
    })
    expect(kms).toEqual({
      errorName: 'KmsSecretsError',
      errorCode: 'ACCESS_DENIED',
      kmsError: 'AccessDeniedException',
      variable: 'API_TOKEN',
    })
    expect(plain).toEqual({ errorName: 'Error' })
    expect(errorFacts(undefined)).toEqual({})
  })
})

describe('errorResponses middleware', () => {
  const logger = () => ({ warn: vi.fn(), error: vi.fn() })
  const metrics = () => ({ addMetric: vi.fn() })
  const request = (error: unknown, response?: APIGatewayProxyStructuredResultV2) =>
    ({
      event: {},
      context: { awsRequestId: 'req-1' } as Context,
      response,
      error,
      internal: {},
    }) as unknown as Request<unknown, APIGatewayProxyStructuredResultV2, Error, Context>

  it('answers JSON { code, message, requestId } and logs facts, not messages', () => {
    // Prepare
    const log = logger()
    const req = request(new Error(`unexpected ${SECRET}`))

    // Act
    errorResponses({ logger: log, metrics: metrics() }).onError?.(req)

    // Assess
    expect(req.response).toEqual({
      statusCode: 500,
      headers: {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      },
      body: JSON.stringify({ code: 'INTERNAL', message: 'internal error', requestId: 'req-1' }),
    })
    expect(log.error).toHaveBeenCalledWith('request failed', {
      errorName: 'Error',
      answer: 'INTERNAL',
    })
    expect(JSON.stringify(log.error.mock.calls)).not.toContain(SECRET)
  })

  it('warns for client errors and adds Retry-After to a 503', () => {
    // Prepare
    const log = logger()
    const bad = request(new HttpError(400, 'BAD_REQUEST', 'bad id'))
    const throttled = request(new KmsSecretsError(ErrorCode.Throttled, 'slow down'))

    // Act
    errorResponses({ logger: log, metrics: metrics() }).onError?.(bad)
    errorResponses({ logger: log, metrics: metrics() }).onError?.(throttled)

    // Assess
    expect(bad.response?.statusCode).toBe(400)
    expect(log.warn).toHaveBeenCalledTimes(1)
    expect(throttled.response?.statusCode).toBe(503)
    expect(throttled.response?.headers?.['retry-after']).toBe('1')
    expect(log.error).toHaveBeenCalledTimes(1)
  })

  it('does not log an UpstreamError again (logged where it happened, with its duration)', () => {
    // Prepare
    const log = logger()
    const req = request(new UpstreamError('TLS_UNTRUSTED'))

    // Act
    errorResponses({ logger: log, metrics: metrics() }).onError?.(req)

    // Assess
    expect(req.response?.statusCode).toBe(502)
    expect(log.warn).not.toHaveBeenCalled()
    expect(log.error).not.toHaveBeenCalled()
  })

  it('leaves a response another middleware already set', () => {
    // Prepare
    const existing = { statusCode: 418 }
    const req = request(new Error('x'), existing)

    // Act
    errorResponses({ logger: logger(), metrics: metrics() }).onError?.(req)

    // Assess
    expect(req.response).toBe(existing)
  })

  it('counts one ServerError for a 5xx answer, none for a 4xx', () => {
    // Prepare
    const counted = metrics()
    const middleware = errorResponses({ logger: logger(), metrics: counted })
    const upstream = request(new UpstreamError('TLS_UNTRUSTED'))
    const kms = request(new KmsSecretsError(ErrorCode.AccessDenied, 'denied'))
    const bad = request(new HttpError(400, 'BAD_REQUEST', 'bad id'))
    const notFound = request(new HttpError(404, 'NOT_FOUND', 'none'))

    // Act
    for (const req of [upstream, kms, bad, notFound]) middleware.onError?.(req)

    // Assess
    expect([upstream, kms, bad, notFound].map((r) => r.response?.statusCode)).toEqual([
      502, 500, 400, 404,
    ])
    expect(counted.addMetric.mock.calls).toEqual([
      [SERVER_ERROR_METRIC, 'Count', 1],
      [SERVER_ERROR_METRIC, 'Count', 1],
    ])
  })

  it('counts a 5xx the handler answered itself (upstream status), not a 2xx or 4xx', () => {
    // Prepare
    const counted = metrics()
    const middleware = errorResponses({ logger: logger(), metrics: counted })
    const answered = (statusCode: number) => request(undefined, { statusCode })

    // Act
    for (const statusCode of [200, 404, 502, 503]) middleware.after?.(answered(statusCode))
    middleware.after?.(request(undefined))

    // Assess
    expect(counted.addMetric.mock.calls).toEqual([
      [SERVER_ERROR_METRIC, 'Count', 1],
      [SERVER_ERROR_METRIC, 'Count', 1],
    ])
  })
})
