// Powertools Logger and Metrics, one of each per container. POWERTOOLS_SERVICE_NAME and
// POWERTOOLS_METRICS_NAMESPACE come from the template.

import { Logger } from '@aws-lambda-powertools/logger'
import { Metrics } from '@aws-lambda-powertools/metrics'

export const logger = new Logger()
export const metrics = new Metrics()
