// Powertools Logger and Metrics, one of each per container. POWERTOOLS_SERVICE_NAME and
// POWERTOOLS_METRICS_NAMESPACE (template) win; the service name defaults to secure-items.

import { Logger } from '@aws-lambda-powertools/logger'
import { Metrics } from '@aws-lambda-powertools/metrics'

const serviceName = process.env.POWERTOOLS_SERVICE_NAME || 'secure-items'

export const logger = new Logger({ serviceName })
export const metrics = new Metrics({ serviceName })
