// The peer for warm invocations: the same secrets, copied into request.internal (and
// context) on every invocation the way @middy/ssm does. Warm phase only.

import middy, { type Request } from '@middy/core'
import type { Context } from 'aws-lambda'
import { loadSecrets } from 'middy-kms-secrets'
import { type BenchEvent, digest, OK, secretCount } from './verify.ts'

const keys = Array.from({ length: secretCount() }, (_, i) => `s${i}`)
const fetchData = Object.fromEntries(keys.map((key, i) => [key, `SECRET_${i}`]))
const setToContext = process.env.BENCH_SET_TO_CONTEXT !== 'false'
const values = loadSecrets({ fetchData })
let cached: Record<string, string> | undefined

const copy = (request: Request, fetched: Record<string, string>) => {
  cached = fetched
  Object.assign(request.internal, fetched)
  if (setToContext) Object.assign(request.context, fetched)
}

// Synchronous once cached, like ours: only the copy differs.
const before = (request: Request) =>
  cached ? copy(request, cached) : values.then((fetched) => copy(request, fetched))

export const handler = middy((event: BenchEvent, context: Context) => {
  const secrets = context as unknown as Record<string, string>
  if (event.verify) return { digest: digest(keys.map((key) => secrets[key] as string)) }
  return OK
}).use({ before })
