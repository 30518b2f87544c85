// Our patterns on either entry point (the SDK's or /lite): the entries differ only in the import.
// BENCH_SET_TO_CONTEXT=false (warm phase) and BENCH_NO_PREFETCH=true (module load) vary options.

import middy from '@middy/core'
import type { kmsSecrets as KmsSecrets } from 'middy-kms-secrets'
import { answer, keys } from './shared.ts'

const handlerWith = (kmsSecrets: typeof KmsSecrets, fetchData: Record<string, string>) =>
  middy((event: { verify?: boolean }, context: object) =>
    answer(event, (key) => (context as Record<string, string>)[key]),
  ).use(
    kmsSecrets({
      fetchData,
      setToContext: process.env.BENCH_SET_TO_CONTEXT !== 'false',
      disablePrefetch: process.env.BENCH_NO_PREFETCH === 'true',
    }),
  )

export const perVariable = (kmsSecrets: typeof KmsSecrets) =>
  handlerWith(kmsSecrets, Object.fromEntries(keys.map((key, i) => [key, `SECRET_${i}`])))

export const bundle = (kmsSecrets: typeof KmsSecrets) =>
  handlerWith(kmsSecrets, Object.fromEntries(keys.map((key) => [key, `BUNDLE#${key}`])))
