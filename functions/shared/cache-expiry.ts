// KMS_SECRETS_CACHE_EXPIRY (the template's SecretsCacheExpiry): how long, in ms, a decrypted
// secret is served before KMS is asked again. It bounds how long a disabled key keeps working
// in a warm instance; the library refreshes in the background once it is reached.

export const CACHE_EXPIRY_VARIABLE = 'KMS_SECRETS_CACHE_EXPIRY'
/** 15 minutes: unset (tests, a bare `sam local`) is bounded too, never "forever". */
export const DEFAULT_CACHE_EXPIRY_MS = 900_000
/** Node's largest timer. */
const MAX_MS = 2_147_483_647

/** -1 (once per container), 0 (no cache) or 1..2^31-1 ms; else `problem` is told (no value in it). */
export const readCacheExpiry = (
  env: Readonly<Record<string, string | undefined>>,
  problem: (text: string) => void,
): number => {
  const raw = env[CACHE_EXPIRY_VARIABLE]?.trim()
  if (!raw) return DEFAULT_CACHE_EXPIRY_MS
  if (!/^(-1|\d+)$/.test(raw) || Number(raw) > MAX_MS) {
    problem(
      `${CACHE_EXPIRY_VARIABLE} must be -1, 0 or a whole number of milliseconds up to ${MAX_MS}`,
    )
    return DEFAULT_CACHE_EXPIRY_MS
  }
  return Number(raw)
}
