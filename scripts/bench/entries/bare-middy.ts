// Baseline: Middy with no middleware, the same handler shape as ours.
import middy from '@middy/core'

export const handler = middy(() => ({ statusCode: 200 }))
