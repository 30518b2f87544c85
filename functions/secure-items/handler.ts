// secure-items: an item store on DynamoDB whose `secret` attribute is sealed with
// AES-256-GCM under a data key that KMS decrypts once per cold start (kmsSecrets).
// Wiring only; the logic lives in the modules next to this file.
//
// Env: TABLE_NAME, DATA_KEY (KMS CiphertextBlob of 32 bytes, encryption context
// LambdaFunctionName=<function name>), optional AAD_TABLE_NAME, KMS_SECRETS_CACHE_EXPIRY,
// POWERTOOLS_* and LOG_LEVEL.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware'
import { parser } from '@aws-lambda-powertools/parser/middleware'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import middy from '@middy/core'
import { kmsSecrets } from 'middy-kms-secrets'
import { decryptRounds } from '../shared/decrypt-rounds.ts'
import type { HttpResponse } from '../shared/http.ts'
import { traceAwsClient, tracingMiddleware } from '../shared/tracing.ts'
import { readConfig } from './config.ts'
import {
  DECRYPT_LATENCY_METRIC,
  dataKeyToContext,
  type ItemsContext,
  secretsOptions,
} from './data-key.ts'
import { errorResponses } from './errors.ts'
import { logger, metrics } from './observability.ts'
import { createRouter } from './routes.ts'
import { type ItemsEvent, itemsEvent } from './schema.ts'
import { createItemStore } from './store.ts'

const config = readConfig(process.env)
const documentClient = DynamoDBDocumentClient.from(traceAwsClient(new DynamoDBClient({})))
const route = createRouter({
  store: createItemStore(documentClient, config.tableName),
  aadTableName: config.aadTableName,
  logger,
  metrics,
})
const rounds = decryptRounds(metrics, logger, DECRYPT_LATENCY_METRIC)
const secrets = kmsSecrets(secretsOptions(rounds.onRound, config.cacheExpiry))
// Finish the decrypt round within INIT: provisioned concurrency freezes the environment
// between INIT and the first event, which then finds the key ready (a failure is retried there).
await secrets.ready()

export const handler = middy<ItemsEvent, HttpResponse, Error, ItemsContext>()
  .use(tracingMiddleware())
  // Never log the event: its body holds the secret in clear.
  .use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .use(errorResponses({ logger, metrics }))
  // Validate first: bad input gets its 400 without waiting for KMS.
  .use(parser({ schema: itemsEvent }))
  .use(secrets)
  .use(rounds.reportRound)
  .use(dataKeyToContext)
  .handler((event, context) => route(event, context.dataKey))
