// The handlers of our patterns, on either entry point (the SDK's or /lite): the
// entries differ only in the import, so a bundle holds only what that entry loads.

import middy from '@middy/core'
import type { Context } from 'aws-lambda'
import type { kmsSecrets as KmsSecrets } from 'middy-kms-secrets'
import { type BenchEvent, digest, OK, secretCount } from './verify.ts'

const keys = Array.from({ length: secretCount() }, (_, i) => `s${i}`)

// The benchmark's handler reads the values from `context`; its warm phase also runs
// the default (values in request.internal only) with BENCH_SET_TO_CONTEXT=false, and
// its module-load phase the code alone, without prefetch, with BENCH_NO_PREFETCH=true.
const setToContext = process.env.BENCH_SET_TO_CONTEXT !== 'false'
const disablePrefetch = process.env.BENCH_NO_PREFETCH === 'true'

const handlerWith = (kmsSecrets: typeof KmsSecrets, fetchData: Record<string, string>) =>
  middy((event: BenchEvent, context: Context) => {
    const secrets = context as unknown as Record<string, string>
    if (event.verify) return { digest: digest(keys.map((key) => secrets[key] as string)) }
    return OK
  }).use(kmsSecrets({ fetchData, setToContext, disablePrefetch }))

/** One environment variable per secret (raw KMS blobs, decrypted in parallel). */
export const perVariable = (kmsSecrets: typeof KmsSecrets) =>
  handlerWith(kmsSecrets, Object.fromEntries(keys.map((key, i) => [key, `SECRET_${i}`])))

/** One bundle envelope (kse1, kind 2) holding every secret: one KMS call. */
export const bundle = (kmsSecrets: typeof KmsSecrets) =>
  handlerWith(kmsSecrets, Object.fromEntries(keys.map((key) => [key, `BUNDLE#${key}`])))
