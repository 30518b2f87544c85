// Configuration of the secure-fetch function, read from its environment once per container and
// validated as a whole: every problem is reported at once, by variable name, never with a value.
import { readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { readCacheExpiry } from '../shared/cache-expiry.ts'

export interface SecureFetchConfig {
  /** Origin of the upstream, `https://host[:port]`. */
  origin: string
  /** Path of UPSTREAM_URL without its trailing slashes ('' for the root). */
  basePath: string
  /** PEM of UPSTREAM_CA_FILE, added to Node's default trust store. */
  ca: string | undefined
  /** UPSTREAM_SPKI_PINS, each a base64 SHA-256 (an optional `sha256/` prefix removed). */
  spkiPins: string[]
  /** CLIENT_TLS_FILE as written (resolved by the library against LAMBDA_TASK_ROOT). */
  clientTlsFile: string | undefined
  connectTimeoutMs: number
  responseTimeoutMs: number
  /** kmsSecrets' cacheExpiry (KMS_SECRETS_CACHE_EXPIRY). */
  cacheExpiry: number
}

export type Env = Readonly<Record<string, string | undefined>>

/** Bad configuration: the message lists each variable and what is wrong with it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  readonly code = 'CONFIG_INVALID'
  readonly problems: readonly string[]

  constructor(problems: readonly string[]) {
    super(`secure-fetch configuration is invalid: ${problems.join('; ')}`)
    this.problems = problems
  }
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 3000
export const DEFAULT_RESPONSE_TIMEOUT_MS = 10_000
/** No Lambda function runs longer than 15 minutes. */
const MAX_TIMEOUT_MS = 900_000
const PIN = /^[A-Za-z0-9+/]{43}=$/

type ReadText = (path: string) => string

const readUtf8: ReadText = (path) => readFileSync(path, 'utf8')

/**
 * Reads and checks the configuration. Throws a {@link ConfigError} naming every bad variable.
 * `readText` is only there for tests.
 */
export const loadConfig = (env: Env, readText: ReadText = readUtf8): SecureFetchConfig => {
  const problems: string[] = []
  const problem = (text: string) => {
    problems.push(text)
  }

  let origin = ''
  let basePath = ''
  const upstreamUrl = env.UPSTREAM_URL?.trim()
  if (!upstreamUrl) problem('UPSTREAM_URL is not set')
  else {
    let url: URL | undefined
    try {
      url = new URL(upstreamUrl)
    } catch {
      problem('UPSTREAM_URL is not a URL')
    }
    if (url) {
      if (url.protocol !== 'https:') problem('UPSTREAM_URL must be an https:// URL')
      else if (url.username || url.password || url.search || url.hash) {
        problem('UPSTREAM_URL must not carry credentials, a query or a fragment')
      } else {
        origin = url.origin
        basePath = url.pathname.replace(/\/+$/, '')
      }
    }
  }

  if (env.API_TOKEN === undefined || env.API_TOKEN.trim() === '') {
    problem('API_TOKEN is not set (a KMS ciphertext, base64)')
  }

  let ca: string | undefined
  const caFile = env.UPSTREAM_CA_FILE?.trim()
  if (caFile) {
    const path = isAbsolute(caFile) ? caFile : resolve(env.LAMBDA_TASK_ROOT ?? '.', caFile)
    try {
      ca = readText(path)
      if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
        problem('UPSTREAM_CA_FILE holds no PEM certificate')
        ca = undefined
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException)?.code ?? 'unreadable'
      problem(`UPSTREAM_CA_FILE cannot be read (${code}); a path relative to LAMBDA_TASK_ROOT`)
    }
  }

  const spkiPins: string[] = []
  for (const [index, raw] of (env.UPSTREAM_SPKI_PINS ?? '').split(',').entries()) {
    const pin = raw.trim().replace(/^sha256\/{1,2}/, '')
    if (pin === '') continue
    if (!PIN.test(pin) || Buffer.from(pin, 'base64').length !== 32) {
      problem(`UPSTREAM_SPKI_PINS entry #${index + 1} is not a base64 SHA-256 digest`)
    } else spkiPins.push(pin)
  }

  const clientTlsFile = env.CLIENT_TLS_FILE?.trim() || undefined
  if (clientTlsFile?.includes('#')) problem('CLIENT_TLS_FILE must not contain "#"')

  const connectTimeoutMs = milliseconds(
    env,
    'CONNECT_TIMEOUT_MS',
    DEFAULT_CONNECT_TIMEOUT_MS,
    problem,
  )
  const responseTimeoutMs = milliseconds(
    env,
    'RESPONSE_TIMEOUT_MS',
    DEFAULT_RESPONSE_TIMEOUT_MS,
    problem,
  )

  const cacheExpiry = readCacheExpiry(env, problem)

  if (problems.length > 0) throw new ConfigError(problems)
  return {
    origin,
    basePath,
    ca,
    spkiPins,
    clientTlsFile,
    connectTimeoutMs,
    responseTimeoutMs,
    cacheExpiry,
  }
}

const milliseconds = (
  env: Env,
  name: string,
  fallback: number,
  problem: (text: string) => void,
): number => {
  const raw = env[name]?.trim()
  if (!raw) return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || value < 1 || value > MAX_TIMEOUT_MS) {
    problem(`${name} must be a whole number of milliseconds between 1 and ${MAX_TIMEOUT_MS}`)
    return fallback
  }
  return value
}
