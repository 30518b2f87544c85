// What both samples do after each decrypt round (kmsSecrets' onRound): its latency as a metric
// and a log line in the invocation that follows it (Powertools publishes metrics per
// invocation, and INIT has none), and a subsegment in X-Ray (./tracing.ts). Counts and times
// only: a report never holds a secret.

import type { Logger } from '@aws-lambda-powertools/logger'
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import type { MiddlewareObj } from '@middy/core'
import type { RoundReport } from 'middy-kms-secrets/lite'
import { traceDecryptRound } from './tracing.ts'

export const decryptRounds = (metrics: Metrics, logger: Logger, metricName: string) => {
  let unreported: RoundReport | undefined
  const onRound = (report: RoundReport): void => {
    traceDecryptRound(report)
    // A failed round is answered, and logged, by the invocation that waited for it.
    if (report.error === undefined) unreported = report
  }
  /** Use after kmsSecrets: by then the round this invocation may have waited for is over. */
  const reportRound: MiddlewareObj = {
    before: () => {
      if (unreported === undefined) return
      const durationMs = Math.round(unreported.durationMs)
      metrics.addMetric(metricName, MetricUnit.Milliseconds, durationMs)
      logger.info('secrets decrypted', { durationMs, kmsCalls: unreported.kmsCalls })
      unreported = undefined
    },
  }
  return { onRound, reportRound }
}
