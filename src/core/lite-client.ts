import type { Agent, request as httpRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type {
  DecryptCommandLike,
  DecryptInput,
  DecryptOutput,
  KmsClient,
  KmsClientConfig,
} from './kms.ts'
import { CredentialSource, readBody } from './lite-credentials.ts'
import { signRequest } from './sigv4.ts'
import { isTransientNetworkError, THROTTLING_ERRORS } from './transient.ts'

/** Decrypt for LiteKmsClient: only the input, none of the SDK's middleware stack. */
export class DecryptCommand implements DecryptCommandLike {
  readonly input: DecryptInput
  constructor(input: DecryptInput) {
    this.input = input
  }
}

type Env = Readonly<Record<string, string | undefined>>

interface Target {
  url: URL
  region: string
  request: typeof httpRequest
  agent: Agent
}

const TRANSIENT_STATUS = new Set([500, 502, 503, 504])
const BASE_DELAY_MS = 100
const THROTTLING_BASE_DELAY_MS = 500
const MAX_DELAY_MS = 20_000

interface AwsError extends Error {
  code?: string
  $metadata?: { httpStatusCode?: number; requestId?: string }
}

const namedError = (name: string, message: string, extra: Partial<AwsError> = {}): AwsError =>
  Object.assign(new Error(message), { ...extra, name })

/**
 * A KMS client that speaks only Decrypt, for `AwsClient` where the AWS SDK's load
 * time dominates a cold start: SigV4 on node:crypto (./sigv4.ts) and node:https with
 * keep-alive. Like the SDK it reads the Lambda environment (region, endpoint,
 * AWS_MAX_ATTEMPTS) and its credentials (./lite-credentials.ts: the environment, or the
 * container endpoint), retries throttling, 5xx and connection errors with full-jitter
 * backoff, honours the abort signal, and throws errors shaped like the SDK's (name =
 * the KMS error type, `$metadata`), so the library maps them to the same codes.
 * Of `awsClientOptions` it reads `region`, `endpoint` and `maxAttempts` (strings
 * and numbers) and static `credentials`.
 */
export class LiteKmsClient implements KmsClient {
  readonly #config: KmsClientConfig
  readonly #env: Env
  readonly #credentials: CredentialSource
  #target: Target | undefined

  constructor(config: KmsClientConfig = {}, env: Env = process.env) {
    this.#config = config
    this.#env = env
    this.#credentials = new CredentialSource(config.credentials, env)
  }

  async send(
    command: DecryptCommandLike,
    options: { abortSignal?: AbortSignal } = {},
  ): Promise<DecryptOutput> {
    const signal = options.abortSignal
    const body = JSON.stringify(toWire(command.input))
    const attempts = this.#maxAttempts()
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#attempt(body, signal)
      } catch (error) {
        if (signal?.aborted) throw namedError('AbortError', 'the request was aborted')
        const throttled = THROTTLING_ERRORS.has((error as AwsError).name)
        if (attempt >= attempts || !(throttled || isTransient(error as AwsError))) throw error
        const cap = Math.min(
          MAX_DELAY_MS,
          (throttled ? THROTTLING_BASE_DELAY_MS : BASE_DELAY_MS) * 2 ** (attempt - 1),
        )
        // Loaded on the first retry only: a cold start that needs none never pays for it.
        const { setTimeout: sleep } = process.getBuiltinModule('node:timers/promises')
        await sleep(Math.random() * cap, undefined, { signal }).catch(() => {
          throw namedError('AbortError', 'the request was aborted')
        })
      }
    }
  }

  /** Closes the kept-alive connections. */
  destroy(): void {
    this.#target?.agent.destroy()
  }

  async #attempt(body: string, signal: AbortSignal | undefined): Promise<DecryptOutput> {
    const { url, region, request, agent } = this.#resolveTarget()
    const headers = signRequest(
      {
        service: 'kms',
        region,
        method: 'POST',
        host: url.host,
        path: url.pathname,
        body,
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'TrentService.Decrypt',
        },
      },
      await this.#credentials.get(signal),
    )
    const {
      status,
      headers: answerHeaders,
      payload,
    } = await new Promise<{
      status: number
      headers: IncomingHttpHeaders
      payload: Buffer
    }>((resolve, reject) => {
      // A network error names the endpoint's host, as the library's message will.
      const fail = (error: Error) => reject(Object.assign(error, { host: url.host }))
      const outgoing = request(
        {
          hostname: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
          agent,
          signal,
        },
        (response: IncomingMessage) =>
          readBody(response).then(
            (payload) =>
              resolve({
                status: response.statusCode as number,
                headers: response.headers,
                payload,
              }),
            fail,
          ),
      )
      outgoing.on('error', fail)
      outgoing.end(body)
    })
    const $metadata = {
      httpStatusCode: status,
      requestId: headerOf(answerHeaders, 'x-amzn-requestid'),
    }
    // The answer holds the plaintext (base64): its buffer is wiped once read.
    const answer = parseJson(payload)
    payload.fill(0)
    if (status < 200 || status >= 300) throw kmsError(status, answerHeaders, answer, $metadata)
    const plaintext = typeof answer.Plaintext === 'string' ? answer.Plaintext : undefined
    return {
      Plaintext:
        plaintext === undefined ? undefined : new Uint8Array(Buffer.from(plaintext, 'base64')),
      KeyId: typeof answer.KeyId === 'string' ? answer.KeyId : undefined,
      EncryptionAlgorithm:
        typeof answer.EncryptionAlgorithm === 'string' ? answer.EncryptionAlgorithm : undefined,
      $metadata,
    }
  }

  /**
   * Region and endpoint once per client, as the SDK resolves them at construction. Only
   * the transport the endpoint needs is loaded, and as Node's own CommonJS object: an ESM
   * import of node:http evaluates its lazy exports (WebSocket...), which load undici.
   */
  #resolveTarget(): Target {
    if (this.#target) return this.#target
    const { url, region } = targetOf(this.#config, this.#env)
    const { request, Agent } = process.getBuiltinModule(
      url.protocol === 'http:' ? 'node:http' : 'node:https',
    )
    this.#target = {
      url,
      region,
      request,
      agent: new Agent({ keepAlive: true, maxSockets: 50 }),
    }
    return this.#target
  }

  #maxAttempts(): number {
    const { maxAttempts } = this.#config
    if (typeof maxAttempts === 'number') return maxAttempts
    const fromEnv = Number(this.#env.AWS_MAX_ATTEMPTS)
    return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 3
  }
}

/** Region, then endpoint: the client's options first, then the environment, as the SDK. */
export const targetOf = (config: KmsClientConfig, env: Env): { url: URL; region: string } => {
  const { region: configured, endpoint } = config
  const region =
    typeof configured === 'string' ? configured : env.AWS_REGION || env.AWS_DEFAULT_REGION
  if (!region) throw namedError('Error', 'Region is missing')
  const base =
    (typeof endpoint === 'string' ? endpoint : undefined) ||
    env.AWS_ENDPOINT_URL_KMS ||
    env.AWS_ENDPOINT_URL ||
    `https://kms.${region}.amazonaws.com`
  return { url: new URL(base), region }
}

/** The AWS JSON wire form of Decrypt's input: the blob in base64. */
const toWire = (input: DecryptInput) => ({
  ...input,
  CiphertextBlob:
    input.CiphertextBlob === undefined
      ? undefined
      : Buffer.from(input.CiphertextBlob).toString('base64'),
})

const isTransient = (error: AwsError): boolean =>
  isTransientNetworkError(error) ||
  TRANSIENT_STATUS.has(error.$metadata?.httpStatusCode as number) ||
  error.$metadata?.httpStatusCode === 429

// Node joins a repeated header into one string (set-cookie aside).
const headerOf = (headers: IncomingHttpHeaders, name: string): string | undefined =>
  headers[name]?.toString()

const parseJson = (payload: Buffer): Record<string, unknown> => {
  try {
    // null becomes {}; a JSON number or string already reads as {} (it has none of the fields).
    return JSON.parse(payload.toString('utf8')) ?? {}
  } catch {
    return {}
  }
}

/** An AWS JSON error as the SDK names it: `com.amazonaws.kms#NotFoundException:…` → `NotFoundException`. */
const kmsError = (
  status: number,
  headers: IncomingHttpHeaders,
  answer: Record<string, unknown>,
  $metadata: AwsError['$metadata'],
): AwsError => {
  const raw = headerOf(headers, 'x-amzn-errortype') ?? answer.__type ?? answer.code
  const type = typeof raw === 'string' ? (raw.split(':')[0] as string).split('#').pop() : undefined
  const message = answer.message ?? answer.Message
  return namedError(type || `HTTP${status}Error`, typeof message === 'string' ? message : '', {
    $metadata,
  })
}
