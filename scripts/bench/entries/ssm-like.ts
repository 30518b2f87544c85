// The warm peer: the same secrets copied into request.internal (and context) on every invocation,
// the way @middy/ssm does; synchronous once cached, like ours, so only the copy differs.

import middy, { type Request } from '@middy/core'
import { loadSecrets } from 'middy-kms-secrets'
import { answer, keys } from './shared.ts'

const setToContext = process.env.BENCH_SET_TO_CONTEXT !== 'false'
const values = loadSecrets({
  fetchData: Object.fromEntries(keys.map((k, i) => [k, `SECRET_${i}`])),
})
let cached: Record<string, string> | undefined

const copy = (request: Request, fetched: Record<string, string>) => {
  cached = fetched
  Object.assign(request.internal, fetched)
  if (setToContext) Object.assign(request.context, fetched)
}

export const handler = middy((event: { verify?: boolean }, context: object) =>
  answer(event, (key) => (context as Record<string, string>)[key]),
).use({
  before: (request) => (cached ? copy(request, cached) : values.then((v) => copy(request, v))),
})
