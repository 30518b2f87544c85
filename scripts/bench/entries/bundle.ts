// Ours, one bundle envelope (kse1, kind 2) holding every secret: one KMS call.

import middy from '@middy/core'
import type { Context } from 'aws-lambda'
import { kmsSecrets } from 'middy-kms-secrets'
import { type BenchEvent, digest, OK, secretCount } from './verify.ts'

const keys = Array.from({ length: secretCount() }, (_, i) => `s${i}`)
const fetchData = Object.fromEntries(keys.map((key) => [key, `BUNDLE#${key}`]))

// The benchmark's handler reads the values from `context`; its warm phase also runs
// the default (values in request.internal only) with BENCH_SET_TO_CONTEXT=false, and
// its module-load phase the code alone, without prefetch, with BENCH_NO_PREFETCH=true.
const setToContext = process.env.BENCH_SET_TO_CONTEXT !== 'false'
const disablePrefetch = process.env.BENCH_NO_PREFETCH === 'true'

export const handler = middy((event: BenchEvent, context: Context) => {
  const secrets = context as unknown as Record<string, string>
  if (event.verify) return { digest: digest(keys.map((key) => secrets[key] as string)) }
  return OK
}).use(kmsSecrets({ fetchData, setToContext, disablePrefetch }))
