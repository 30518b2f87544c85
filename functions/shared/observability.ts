// Powertools Logger and Metrics, one of each per container. POWERTOOLS_SERVICE_NAME and
// POWERTOOLS_METRICS_NAMESPACE (template) win; the service name defaults to the function's.

import { Logger } from '@aws-lambda-powertools/logger'
import { Metrics } from '@aws-lambda-powertools/metrics'

export const observability = (defaultServiceName: string) => {
  const serviceName = process.env.POWERTOOLS_SERVICE_NAME || defaultServiceName
  return { logger: new Logger({ serviceName }), metrics: new Metrics({ serviceName }) }
}
