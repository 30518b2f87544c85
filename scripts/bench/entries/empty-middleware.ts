// Baseline: Middy with one empty `before` middleware, the same handler shape as
// bare-middy. What Middy itself costs to dispatch any middleware: the floor no
// middleware can beat.

import middy from '@middy/core'
import { type BenchEvent, OK } from './verify.ts'

export const handler = middy((_event: BenchEvent) => OK).use({ before: () => undefined })
