import type { KmsKit } from '../core/kms.ts'
import { secretsLoader } from '../core/loader.ts'
import type { FetchData, LoadSecretsOptions, Secrets, TransformOption } from '../core/options.ts'

/** `loadSecrets` on a given KMS client and command: src/index.ts and src/lite.ts wire one each. */
export const loadSecretsWith =
  (kit: KmsKit) =>
  <const F extends FetchData, const T extends TransformOption<F> | undefined = undefined>(
    options: LoadSecretsOptions<F, T>,
  ): Promise<Secrets<F, T>> =>
    secretsLoader<Secrets<F, T>>(options, kit).cache.get()
