// secure-fetch: `GET /fetch[/{id}]` (API Gateway HTTP API v2) calls the upstream HTTPS API with a
// bearer token that arrives KMS-encrypted in `API_TOKEN`, over verified TLS >= 1.2 (optional
// extra CA, SPKI pins, mutual TLS from an envelope secrets file). Wiring only: see config.ts,
// secrets.ts, fetch.ts, errors.ts and upstream.ts.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import { MetricUnit } from '@aws-lambda-powertools/metrics'
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware'
import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { decryptRounds } from '../shared/decrypt-rounds.ts'
import { tracingMiddleware } from '../shared/tracing.ts'
import { ConfigError, loadConfig } from './config.ts'
import { errorResponses } from './errors.ts'
import { checkEvent, fetchUpstream, type Telemetry, upstreamPool } from './fetch.ts'
import { logger, metrics } from './observability.ts'
import { afterPrefetch, type SecretsContext, secretsMiddleware, secretsOptions } from './secrets.ts'
import { tracedUpstream } from './tracing.ts'
import { createUpstreamClient } from './upstream.ts'

const config = (() => {
  try {
    return loadConfig(process.env)
  } catch (error) {
    // Fail the INIT phase with a clear message (variable names, never values).
    if (error instanceof ConfigError) logger.error(error.message, { errorCode: error.code })
    throw error
  }
})()

const pool = upstreamPool(config, tracedUpstream(createUpstreamClient))

const telemetry: Telemetry = {
  info: (message, extra) => logger.info(message, extra),
  warn: (message, extra) => logger.warn(message, extra),
  upstreamLatency: (ms) => metrics.addMetric('UpstreamLatency', MetricUnit.Milliseconds, ms),
  upstreamError: (code) => {
    const single = metrics.singleMetric()
    single.addDimension('ErrorCode', code)
    single.addMetric('UpstreamError', MetricUnit.Count, 1)
  },
}

const rounds = decryptRounds(metrics, logger, 'DecryptLatency')
const options = secretsOptions(config, rounds.onRound)
const secrets = secretsMiddleware(options)
// Finish the decrypt round within INIT (provisioned concurrency freezes the environment between
// INIT and the first event), then build the TLS context (trust store, client certificate) ahead
// of the first request. A failure of either is left to that request, which retries and answers it.
await afterPrefetch(secrets, options, (values) => pool.clientFor(values))

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(tracingMiddleware())
  .use(injectLambdaContext(logger, { logEvent: false }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .use(errorResponses({ logger, metrics }))
  .use(checkEvent(config.basePath))
  .use(secrets)
  .use(rounds.reportRound)
  .handler((event, context, { signal }) =>
    fetchUpstream(event, context as SecretsContext, signal, { config, pool, telemetry }),
  )
