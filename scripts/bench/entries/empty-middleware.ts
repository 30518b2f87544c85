// Baseline: bare-middy plus one empty `before` middleware, the floor no middleware can beat.
import middy from '@middy/core'

export const handler = middy(() => ({ statusCode: 200 })).use({ before: () => undefined })
