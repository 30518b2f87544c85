// What one secure-fetch invocation does: check the event, call the upstream with the bearer token
// under a deadline derived from the Lambda's remaining time, and turn the answer into an HTTP
// API v2 response. The TLS client is built once per container (per client certificate).
import type { MiddlewareObj } from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda'
import { HttpError, jsonResponse } from '../shared/http.ts'
import type { SecureFetchConfig } from './config.ts'
import type { FetchSecrets } from './secrets.ts'
import {
  createUpstreamClient,
  type UpstreamClient,
  type UpstreamClientOptions,
  UpstreamError,
} from './upstream.ts'

/** Time kept back from the Lambda deadline to answer, log and flush metrics. */
export const DEADLINE_MARGIN_MS = 500
/** One path segment: no '.', '..', slash, percent-encoding or whitespace can get through. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/

export interface Telemetry {
  info(message: string, extra: Record<string, unknown>): void
  warn(message: string, extra: Record<string, unknown>): void
  upstreamLatency(ms: number): void
  upstreamError(code: string): void
}

export interface UpstreamPool {
  /** The client for these secrets: built on first use, then reused (keep-alive). */
  clientFor(secrets: FetchSecrets): UpstreamClient
  close(): void
}

/** One TLS client per container, rebuilt only if the client certificate or key changed. */
export const upstreamPool = (
  config: SecureFetchConfig,
  create: (options: UpstreamClientOptions) => UpstreamClient = createUpstreamClient,
): UpstreamPool => {
  let current: { cert?: string; key?: string; client: UpstreamClient } | undefined
  return {
    clientFor(secrets) {
      const { clientCert: cert, clientKey: key } = secrets
      if (current && current.cert === cert && current.key === key) return current.client
      const client = create({
        baseUrl: config.origin,
        ...(config.ca !== undefined && { ca: config.ca }),
        spkiPins: config.spkiPins,
        ...(cert !== undefined && key !== undefined && { clientCert: { cert, key } }),
        connectTimeoutMs: config.connectTimeoutMs,
        responseTimeoutMs: config.responseTimeoutMs,
        keepAlive: true,
      })
      current?.client.close()
      current = { ...(cert !== undefined && { cert }), ...(key !== undefined && { key }), client }
      return client
    },
    close() {
      current?.client.close()
      current = undefined
    },
  }
}

/** `GET /fetch` -> the UPSTREAM_URL path; `GET /fetch/{id}` -> that path + `/{id}`. */
export const upstreamPath = (event: APIGatewayProxyEventV2, basePath: string): string => {
  const method = event.requestContext?.http?.method
  if (method !== 'GET') {
    throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'only GET is supported')
  }
  const id = event.pathParameters?.id
  if (id === undefined) return basePath || '/'
  if (!ID.test(id)) {
    throw new HttpError(
      400,
      'BAD_REQUEST',
      'id must be 1-128 characters from A-Z a-z 0-9 . _ ~ - and start with a letter or digit',
    )
  }
  return `${basePath}/${id}`
}

/** Checks the event before anything waits for KMS: bad input gets its 400/405 at once. */
export const checkEvent = (basePath: string): MiddlewareObj<APIGatewayProxyEventV2> => {
  return {
    before: (request) => {
      upstreamPath(request.event, basePath)
    },
  }
}

export interface FetchDeps {
  config: SecureFetchConfig
  pool: UpstreamPool
  telemetry: Telemetry
}

export const fetchUpstream = async (
  event: APIGatewayProxyEventV2,
  context: Context & FetchSecrets,
  signal: AbortSignal | undefined,
  deps: FetchDeps,
): Promise<APIGatewayProxyStructuredResultV2> => {
  const { config, pool, telemetry } = deps
  const path = upstreamPath(event, config.basePath)
  const budgetMs = Math.floor(context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS)
  const started = performance.now()
  const elapsed = () => Math.round(performance.now() - started)
  let response: Awaited<ReturnType<UpstreamClient['request']>>
  try {
    if (budgetMs <= 0) throw new UpstreamError('ABORTED', { reason: 'no time left' })
    const client = pool.clientFor(context)
    const deadline = AbortSignal.timeout(budgetMs)
    response = await client.request({
      method: 'GET',
      path,
      headers: { accept: 'application/json' },
      token: context.apiToken,
      signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
    })
  } catch (error) {
    const durationMs = elapsed()
    if (error instanceof UpstreamError) {
      telemetry.upstreamLatency(durationMs)
      telemetry.upstreamError(error.code)
      telemetry.warn('upstream call failed', {
        errorCode: error.code,
        ...(error.nodeCode !== undefined && { nodeCode: error.nodeCode }),
        attempts: error.attempts,
        durationMs,
      })
    }
    throw error
  }
  const durationMs = elapsed()
  const { status, attempts } = response
  telemetry.upstreamLatency(durationMs)
  telemetry.info('upstream answered', { status, attempts, durationMs })
  if (status >= 200 && status < 300) {
    const contentType = response.headers['content-type']
    return {
      statusCode: status,
      headers: {
        'content-type': contentType ?? 'application/octet-stream',
        'cache-control': 'no-store',
      },
      body: response.body,
    }
  }
  if (status === 404) {
    return jsonResponse(404, {
      code: 'NOT_FOUND',
      message: 'the upstream has no such resource',
      requestId: context.awsRequestId,
    })
  }
  // The upstream's own error body is not relayed: it is not ours to expose.
  telemetry.upstreamError('UPSTREAM_STATUS')
  return jsonResponse(502, {
    code: 'UPSTREAM_STATUS',
    message: `the upstream answered HTTP ${status}`,
    upstreamStatus: status,
    requestId: context.awsRequestId,
  })
}
