// Where LiteKmsClient finds credentials, in the order of the SDK's default chain for the
// sources it knows: static `credentials` in its options, the environment (Lambda), then the
// container credentials endpoint (ECS tasks, EKS Pod Identity). Anything else is an
// ACCESS_DENIED error that names what was read.
import type { IncomingMessage } from 'node:http'
import { CredentialsError } from './errors.ts'
import type { Credentials } from './kms.ts'

type Env = Readonly<Record<string, string | undefined>>

/** Where AWS_CONTAINER_CREDENTIALS_RELATIVE_URI points (the ECS agent). */
const ECS_ENDPOINT = 'http://169.254.170.2'
/** Plain-http hosts the SDK accepts besides loopback: ECS, EKS (IPv4 and IPv6). */
const CONTAINER_HOSTS: ReadonlySet<string> = new Set([
  '169.254.170.2',
  '169.254.170.23',
  '[fd00:ec2::23]',
])
/** Refreshed this long before `Expiration`, as the SDK does. */
const REFRESH_BEFORE_MS = 5 * 60_000
/** The SDK's timeout for the container endpoint: it answers locally, at once. */
const TIMEOUT_MS = 1000

const READS =
  'AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN), AWS_CONTAINER_CREDENTIALS_FULL_URI / AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (with AWS_CONTAINER_AUTHORIZATION_TOKEN or _TOKEN_FILE), or static awsClientOptions.credentials'

const denied = (message: string) => new CredentialsError(message)

/** 127.0.0.0/8, ::1 or localhost (the URL parser has normalised the forms of each). */
const isLoopback = (hostname: string): boolean =>
  // Stryker disable next-line Regex: without `^` alike: the URL parser reads any host ending in a number as IPv4 (tests kill the other forms)
  hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname)

const isStatic = (value: unknown): value is Credentials =>
  typeof (value as Credentials | null)?.accessKeyId === 'string' &&
  typeof (value as Credentials).secretAccessKey === 'string'

interface Cached {
  credentials: Credentials
  refreshAt: number
}

/** One client's credentials: resolved per request, container ones cached and fetched once at a time. */
export class CredentialSource {
  readonly #configured: unknown
  readonly #env: Env
  #cached: Cached | undefined
  #pending: Promise<Cached> | undefined

  constructor(configured: unknown, env: Env) {
    this.#configured = configured
    this.#env = env
  }

  async get(signal: AbortSignal | undefined): Promise<Credentials> {
    if (isStatic(this.#configured)) return this.#configured
    const env = this.#env
    if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
      return {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        sessionToken: env.AWS_SESSION_TOKEN || undefined,
      }
    }
    if (!env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI && !env.AWS_CONTAINER_CREDENTIALS_FULL_URI) {
      throw denied(`no AWS credentials: /lite reads ${READS}`)
    }
    // Stryker disable next-line EqualityOperator: `<=` differs only in the one millisecond of refreshAt itself
    if (this.#cached && Date.now() < this.#cached.refreshAt) return this.#cached.credentials
    // Parallel Decrypt calls of a cold start share one request to the endpoint.
    this.#pending ??= fromContainer(env, signal).finally(() => {
      this.#pending = undefined
    })
    this.#cached = await this.#pending
    return this.#cached.credentials
  }
}

/** The container endpoint's URL, checked as the SDK checks it: https, loopback or a container host. */
const containerUrl = (env: Env): URL => {
  const relative = env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
  const variable = relative
    ? 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'
    : 'AWS_CONTAINER_CREDENTIALS_FULL_URI'
  const url = URL.parse(relative ? `${ECS_ENDPOINT}${relative}` : String(env[variable]))
  if (url === null) throw denied(`${variable} is not a URL`)
  const allowed =
    url.protocol === 'https:' ||
    (url.protocol === 'http:' && (CONTAINER_HOSTS.has(url.hostname) || isLoopback(url.hostname)))
  if (!allowed) {
    throw denied(
      `${variable} must be https, or http on loopback, 169.254.170.2, 169.254.170.23 or [fd00:ec2::23] (host: ${url.host})`,
    )
  }
  return url
}

/** AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read per fetch: it is rotated), else _TOKEN. */
const authorization = async (env: Env): Promise<string | undefined> => {
  const file = env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
  let token = env.AWS_CONTAINER_AUTHORIZATION_TOKEN
  if (file) {
    token = await process
      .getBuiltinModule('node:fs/promises')
      .readFile(file, 'utf8')
      .then(
        (text) => text.trim(),
        (error: NodeJS.ErrnoException) => {
          throw denied(`AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE cannot be read (${error.code})`)
        },
      )
  }
  if (token && /[\r\n]/.test(token))
    throw denied('the container authorization token holds a line break')
  return token || undefined
}

const fromContainer = async (env: Env, signal: AbortSignal | undefined): Promise<Cached> => {
  const url = containerUrl(env)
  const token = await authorization(env)
  const { status, body } = await get(url, token, signal)
  try {
    if (status !== 200) {
      throw denied(`the container credentials endpoint ${url.host} answered HTTP ${status}`)
    }
    const answer = parse(body)
    const expiresAt = Date.parse(String(answer?.Expiration))
    if (
      typeof answer?.AccessKeyId !== 'string' ||
      typeof answer.SecretAccessKey !== 'string' ||
      typeof answer.Token !== 'string' ||
      Number.isNaN(expiresAt)
    ) {
      throw denied(
        `the container credentials endpoint ${url.host} answered without AccessKeyId, SecretAccessKey, Token and Expiration`,
      )
    }
    return {
      credentials: {
        accessKeyId: answer.AccessKeyId,
        secretAccessKey: answer.SecretAccessKey,
        sessionToken: answer.Token,
      },
      refreshAt: expiresAt - REFRESH_BEFORE_MS,
    }
  } finally {
    body.fill(0) // it held the secret key
  }
}

// Stryker disable BlockStatement: an empty catch returns undefined just the same (a comment inside the try reaches no catch)
const parse = (body: Buffer): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
}
// Stryker restore BlockStatement

/** A response's body in one buffer; the chunks it came in are wiped (they hold secrets). */
export const readBody = (response: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    response.on('data', (chunk: Buffer) => chunks.push(chunk))
    response.on('error', reject)
    response.on('end', () => {
      const body = Buffer.concat(chunks)
      for (const chunk of chunks) chunk.fill(0)
      resolve(body)
    })
  })

const get = (
  url: URL,
  token: string | undefined,
  signal: AbortSignal | undefined,
): Promise<{ status: number; body: Buffer }> =>
  new Promise((resolve, reject) => {
    const transport = process.getBuiltinModule(
      url.protocol === 'https:' ? 'node:https' : 'node:http',
    )
    const fail = (error: NodeJS.ErrnoException) =>
      reject(
        signal?.aborted
          ? error
          : denied(
              `could not reach the container credentials endpoint ${url.host} (${error.code})`,
            ),
      )
    const request = transport.get(
      url,
      { headers: token ? { authorization: token } : {}, signal, timeout: TIMEOUT_MS },
      (response: IncomingMessage) =>
        readBody(response).then(
          (body) => resolve({ status: response.statusCode as number, body }),
          fail,
        ),
    )
    request.on('timeout', () =>
      // Stryker disable next-line StringLiteral: only the code is shown (the message never is)
      request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
    )
    request.on('error', fail)
  })
