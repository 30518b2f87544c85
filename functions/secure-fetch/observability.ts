import { observability } from '../shared/observability.ts'

export const { logger, metrics } = observability('secure-fetch')
