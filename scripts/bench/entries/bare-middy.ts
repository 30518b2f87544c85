// Baseline: Middy with no middleware, the same handler shape as ours.

import middy from '@middy/core'
import { type BenchEvent, OK } from './verify.ts'

export const handler = middy((_event: BenchEvent) => OK)
