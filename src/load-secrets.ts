import type { KmsKit } from './kms.ts'
import {
  type FetchData,
  type LoadSecretsOptions,
  type Secrets,
  secretsLoader,
  type TransformOption,
} from './options.ts'

/** `loadSecrets` on a given KMS client and command: src/sdk.ts and src/lite.ts wire one each. */
export const loadSecretsWith =
  (kit: KmsKit) =>
  <const F extends FetchData, const T extends TransformOption<F> | undefined = undefined>(
    options: LoadSecretsOptions<F, T>,
  ): Promise<Secrets<F, T>> =>
    secretsLoader<Secrets<F, T>>(options, kit).cache.get()
