// LiteKmsClient against a real local HTTP server on 127.0.0.1: what it signs and sends,
// how it reads KMS's answers and errors, its retries, and the abort signal.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http, {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { fromKmsError } from '../../src/core/errors.ts'
import { DecryptCommand, LiteKmsClient, targetOf } from '../../src/core/lite-client.ts'
import { signRequest } from '../../src/core/sigv4.ts'
import { THROTTLING_ERRORS } from '../../src/core/transient.ts'
import { REPO_ROOT, runNode, TMP_DIR } from '../support/child.ts'

interface Seen {
  method: IncomingMessage['method']
  headers: IncomingMessage['headers']
  body: Record<string, unknown>
}
type Answer = (res: ServerResponse) => void

let server: Server
let endpoint: string
let answers: Answer[] = []
let seen: Seen[] = []

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Answer =>
  (res) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...headers })
    res.end(typeof body === 'string' ? body : JSON.stringify(body))
  }
const kmsError = (type: string, status = 400) => json(status, { __type: type, message: 'no' })
const reset: Answer = (res) => res.socket?.resetAndDestroy()
const hang: Answer = () => {}
/** The head and a first part of the body, then the connection closes. */
const cutShort: Answer = (res) => {
  res.writeHead(200, { 'content-length': '100' })
  res.write('{"Plaintext":', () => res.socket?.destroy())
}
const ok = (plaintext = 'plain') =>
  json(
    200,
    {
      Plaintext: Buffer.from(plaintext).toString('base64'),
      KeyId: 'arn:key',
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    },
    { 'x-amzn-requestid': 'req-1' },
  )

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      seen.push({
        method: req.method,
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString()),
      })
      ;(answers.shift() ?? ok())(res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})
afterEach(() => {
  answers = []
  seen = []
  vi.restoreAllMocks()
})

const lambdaEnv = (extra: Record<string, string> = {}) => ({
  AWS_REGION: 'eu-west-1',
  AWS_ENDPOINT_URL: endpoint,
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'secret-key',
  AWS_SESSION_TOKEN: 'session-token',
  ...extra,
})

const decrypt = (client: LiteKmsClient, signal?: AbortSignal) =>
  client.send(
    new DecryptCommand({
      CiphertextBlob: Uint8Array.from([1, 2, 3]),
      EncryptionContext: { LambdaFunctionName: 'f' },
      KeyId: 'alias/k',
    }),
    { abortSignal: signal },
  )

/** Keeps every buffer Buffer.concat joins into one holding `marker` (to check they get wiped). */
const holdBuffersWith = (marker: string): Uint8Array[] => {
  const concat = Buffer.concat.bind(Buffer)
  const held: Uint8Array[] = []
  vi.spyOn(Buffer, 'concat').mockImplementation((chunks, length) => {
    const joined = concat(chunks, length)
    if (joined.includes(marker)) held.push(...chunks, joined)
    return joined
  })
  return held
}

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure')
    },
    (error: unknown) =>
      error as Error & {
        code?: string
        $metadata?: { httpStatusCode?: number; requestId?: string }
      },
  )

describe('LiteKmsClient', () => {
  it('signs Decrypt with the Lambda credentials and session token, and returns the plaintext bytes', async () => {
    // Prepare
    const client = new LiteKmsClient({}, lambdaEnv())
    answers = [ok('pässwörd')]

    // Act
    const answer = await decrypt(client)
    client.destroy()

    // Assess
    expect(Buffer.from(answer.Plaintext ?? []).toString()).toBe('pässwörd')
    expect(answer).toMatchObject({
      KeyId: 'arn:key',
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      $metadata: { httpStatusCode: 200, requestId: 'req-1' },
    })
    const [request] = seen
    expect(request?.method).toBe('POST')
    expect(request?.headers['x-amz-target']).toBe('TrentService.Decrypt')
    expect(request?.headers['content-type']).toBe('application/x-amz-json-1.1')
    expect(request?.headers['x-amz-security-token']).toBe('session-token')
    expect(request?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/kms\/aws4_request, SignedHeaders=[^,]*host[^,]*x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/,
    )
    expect(request?.body).toEqual({
      CiphertextBlob: 'AQID',
      EncryptionContext: { LambdaFunctionName: 'f' },
      KeyId: 'alias/k',
    })
    // The signature is the one of this POST (as KMS recomputes it).
    const amzDate = String(request?.headers['x-amz-date'])
    const signedAt = new Date(
      amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'),
    )
    const expected = signRequest(
      {
        service: 'kms',
        region: 'eu-west-1',
        method: 'POST',
        host: new URL(endpoint).host,
        path: '/',
        body: JSON.stringify(request?.body),
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'TrentService.Decrypt',
        },
      },
      { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret-key', sessionToken: 'session-token' },
      signedAt,
    )
    expect(request?.headers.authorization).toBe(expected.authorization)
  })

  it('takes static credentials, region, endpoint and maxAttempts from its options over the environment', async () => {
    // Prepare
    const client = new LiteKmsClient(
      {
        region: 'ap-south-2',
        endpoint,
        maxAttempts: 1,
        credentials: { accessKeyId: 'AKIDOPTION', secretAccessKey: 's' },
      },
      { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '5' },
    )
    answers = [kmsError('ThrottlingException')]

    // Act
    const failure = await failureOf(decrypt(client))
    client.destroy()

    // Assess
    expect(failure.name).toBe('ThrottlingException')
    expect(seen).toHaveLength(1)
    expect(seen[0]?.headers.authorization).toContain('Credential=AKIDOPTION/')
    expect(seen[0]?.headers.authorization).toContain('/ap-south-2/kms/')
    expect(seen[0]?.headers['x-amz-security-token']).toBeUndefined()
  })

  it('resolves the endpoint as the SDK does: option (a string), AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL, then KMS of the region', () => {
    // Act / Assess
    const env = { AWS_DEFAULT_REGION: 'us-west-2' }
    expect(targetOf({}, env).url.href).toBe('https://kms.us-west-2.amazonaws.com/')
    expect(targetOf({}, { ...env, AWS_REGION: 'eu-north-1' }).region).toBe('eu-north-1')
    expect(targetOf({}, { ...env, AWS_ENDPOINT_URL: 'http://a:1' }).url.host).toBe('a:1')
    expect(
      targetOf({}, { ...env, AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_KMS: 'http://b:2' })
        .url.host,
    ).toBe('b:2')
    expect(
      targetOf({ endpoint: 'https://c:3' }, { ...env, AWS_ENDPOINT_URL_KMS: 'http://b:2' }).url
        .host,
    ).toBe('c:3')
    const endpointObject = { protocol: 'https:', hostname: 'd', path: '/' }
    expect(
      targetOf({ endpoint: endpointObject }, { ...env, AWS_ENDPOINT_URL: 'http://a:1' }).url.host,
    ).toBe('a:1')
    expect(() => targetOf({}, {})).toThrow('Region is missing')
    expect(() => targetOf({}, {})).toThrow(expect.objectContaining({ name: 'Error' }))
  })

  it.each([
    ['no credentials', {}],
    ['a key id without its secret', { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE' }],
    ['a secret without its key id', { AWS_SECRET_ACCESS_KEY: 'secret-key' }],
  ])(
    'with %s fails with ACCESS_DENIED naming every variable it reads, before any request',
    async (_name, keys) => {
      // Prepare
      const client = new LiteKmsClient(
        {},
        { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: endpoint, ...keys },
      )

      // Act
      const failure = fromKmsError(await failureOf(decrypt(client)), 'V')

      // Assess
      expect(failure.code).toBe('ACCESS_DENIED')
      expect(failure.kmsError).toBe('CredentialsProviderError')
      for (const name of [
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_SESSION_TOKEN',
        'AWS_CONTAINER_CREDENTIALS_FULL_URI',
        'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
        'AWS_CONTAINER_AUTHORIZATION_TOKEN',
      ]) {
        expect(failure.message).toContain(name)
      }
      expect(failure.message).toMatch(/^V: no AWS credentials/)
      expect(seen).toHaveLength(0)
    },
  )

  it('signs with the environment credentials when its options hold none it can read (null, a provider)', async () => {
    // Prepare: other keys in process.env, which the client must not read
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDPROCESS')
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'process-secret')
    const provider = async () => ({ accessKeyId: 'AKIDPROVIDER', secretAccessKey: 's' })
    const keyOnly = { accessKeyId: 'AKIDKEYONLY' } as never
    const clients = [null as never, provider, keyOnly].map(
      (credentials) => new LiteKmsClient({ credentials }, lambdaEnv()),
    )

    // Act
    for (const client of clients) await decrypt(client)
    vi.unstubAllEnvs()
    for (const client of clients) client.destroy()

    // Assess
    expect(seen.map((request) => request.headers.authorization)).toEqual([
      expect.stringContaining('Credential=AKIDEXAMPLE/'),
      expect.stringContaining('Credential=AKIDEXAMPLE/'),
      expect.stringContaining('Credential=AKIDEXAMPLE/'),
    ])
  })

  it('names KMS errors as the SDK does, with $metadata, whatever the form of the type (HTTP<status>Error outside 2xx without one)', async () => {
    // Prepare: long-term keys, no session token
    const client = new LiteKmsClient(
      {},
      lambdaEnv({ AWS_MAX_ATTEMPTS: '1', AWS_SESSION_TOKEN: '' }),
    )
    answers = [
      json(
        400,
        { __type: 'com.amazonaws.kms#InvalidCiphertextException' },
        { 'x-amzn-requestid': 'r2' },
      ),
      json(400, { message: 'x' }, { 'x-amzn-errortype': 'DisabledException:http://internal' }),
      json(400, { code: 'NotFoundException', Message: 'gone' }),
      json(418, 'not json'),
      json(400, 'null'),
      json(300, {}),
      json(400, { __type: 'KMSInternalException', message: 42 }),
      json(101, {}),
    ]

    // Act
    const failures = []
    for (let i = answers.length; i > 0; i--) failures.push(await failureOf(decrypt(client)))
    client.destroy()

    // Assess
    expect(failures.map((f) => [f.name, f.message, f.$metadata?.httpStatusCode])).toEqual([
      ['InvalidCiphertextException', '', 400],
      ['DisabledException', 'x', 400],
      ['NotFoundException', 'gone', 400],
      ['HTTP418Error', '', 418],
      ['HTTP400Error', '', 400],
      ['HTTP300Error', '', 300],
      ['KMSInternalException', '', 400],
      ['HTTP101Error', '', 101],
    ])
    expect(failures[0]?.$metadata?.requestId).toBe('r2')
    expect(seen[0]?.headers['x-amz-security-token']).toBeUndefined()
    expect(fromKmsError(failures[0], 'V').code).toBe('CONTEXT_MISMATCH')
  })

  it('maps every KMS error type to the same KmsSecretsError code as the SDK-named error', async () => {
    // Prepare
    const client = new LiteKmsClient({}, lambdaEnv({ AWS_MAX_ATTEMPTS: '1' }))
    const types = [
      'AccessDeniedException',
      'InvalidCiphertextException',
      'IncorrectKeyException',
      'NotFoundException',
      'InvalidKeyUsageException',
      'DisabledException',
      'KMSInvalidStateException',
      'KeyUnavailableException',
      'ThrottlingException',
      'LimitExceededException',
      'KMSInternalException',
      'constructor',
    ]

    // Act / Assess
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...types),
        fc.constantFrom('', 'com.amazonaws.kms#', 'kms#'),
        fc.constantFrom('', ':http://internal.amazon.com/'),
        async (type, prefix, suffix) => {
          answers = [kmsError(`${prefix}${type}${suffix}`)]
          const lite = fromKmsError(await failureOf(decrypt(client)), 'V')
          const sdk = fromKmsError(Object.assign(new Error(''), { name: type }), 'V')
          expect(lite.code).toBe(sdk.code)
          expect(lite.kmsError).toBe(type)
        },
      ),
      { numRuns: 40 },
    )
    client.destroy()
  })

  it.each([
    ['throttling', kmsError('ThrottlingException')],
    ['HTTP 500', kmsError('InternalFailure', 500)],
    ['HTTP 503', kmsError('ServiceUnavailable', 503)],
    ['HTTP 429', kmsError('TooManyRequests', 429)],
    ['a connection reset', reset],
    ['an answer cut short', cutShort],
  ])('retries %s with full-jitter backoff and succeeds when it clears', async (_name, fault) => {
    // Prepare
    const random = vi.spyOn(Math, 'random').mockReturnValue(0)
    const client = new LiteKmsClient({}, lambdaEnv())
    answers = [fault, fault, ok('after')]

    // Act
    const answer = await decrypt(client)
    client.destroy()

    // Assess
    expect(Buffer.from(answer.Plaintext ?? []).toString()).toBe('after')
    expect(seen).toHaveLength(3)
    expect(random).toHaveBeenCalledTimes(2)
  })

  it.each([...THROTTLING_ERRORS])('retries %s, as the SDK retries throttling', async (type) => {
    // Prepare
    vi.spyOn(Math, 'random').mockReturnValue(0)
    const client = new LiteKmsClient({}, lambdaEnv())
    answers = [kmsError(type), ok('after')]

    // Act
    const answer = await decrypt(client)
    client.destroy()

    // Assess
    expect(Buffer.from(answer.Plaintext ?? []).toString()).toBe('after')
    expect(seen).toHaveLength(2)
  })

  it.each([
    'ECONNRESET',
    'ECONNREFUSED',
    'EPIPE',
    'ETIMEDOUT',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'ENOTFOUND',
    'EAI_AGAIN',
  ])('retries a connection that fails with %s', async (code) => {
    // Prepare: the first request fails with that code before it reaches the server
    vi.spyOn(Math, 'random').mockReturnValue(0)
    const request = http.request
    const requests = vi.spyOn(http, 'request').mockImplementationOnce(((
      ...args: Parameters<typeof http.request>
    ) => {
      const failing = request(...args)
      process.nextTick(() => failing.destroy(Object.assign(new Error('failed'), { code })))
      return failing
    }) as typeof http.request)
    const client = new LiteKmsClient({}, lambdaEnv())

    // Act
    const answer = await decrypt(client)
    client.destroy()

    // Assess
    expect(Buffer.from(answer.Plaintext ?? []).toString()).toBe('plain')
    expect(requests).toHaveBeenCalledTimes(2)
    expect(seen).toHaveLength(1)
  })

  it('backs off with full jitter under a cap that doubles from 100 ms (500 ms when throttled) up to 20 s', async () => {
    // Prepare: a power of two, so that each delay divided by it is the cap exactly
    const jitter = 2 ** -10
    vi.spyOn(Math, 'random').mockReturnValue(jitter)
    // The backoff's delays, seen through a spy that still waits (the client loads the
    // timers through process.getBuiltinModule: this very object).
    const sleep = vi.spyOn(process.getBuiltinModule('node:timers/promises'), 'setTimeout')
    const client = new LiteKmsClient({}, lambdaEnv({ AWS_MAX_ATTEMPTS: '9' }))
    const serverError = kmsError('InternalFailure', 500)
    answers = [serverError, serverError, ok()]
    answers.push(...Array(8).fill(kmsError('ThrottlingException')), ok())

    // Act
    await decrypt(client)
    await decrypt(client)
    client.destroy()

    // Assess
    const caps = sleep.mock.calls.map(([delay]) => Number(delay) / jitter)
    expect(caps).toEqual([100, 200, 500, 1000, 2000, 4000, 8000, 16000, 20000, 20000])
  })

  it.each(['0', '-1', '1.5', 'many'])(
    'takes AWS_MAX_ATTEMPTS=%s for the default, 3 attempts',
    async (value) => {
      // Prepare
      vi.spyOn(Math, 'random').mockReturnValue(0)
      const client = new LiteKmsClient({}, lambdaEnv({ AWS_MAX_ATTEMPTS: value }))
      answers = [reset, reset, reset, ok()]

      // Act
      const failure = await failureOf(decrypt(client))
      client.destroy()

      // Assess
      expect(fromKmsError(failure, 'V').code).toBe('NETWORK')
      expect(seen).toHaveLength(3)
    },
  )

  it('gives up after maxAttempts (3 by default, as the SDK) and never retries a client error', async () => {
    // Prepare
    vi.spyOn(Math, 'random').mockReturnValue(0)
    const client = new LiteKmsClient({}, lambdaEnv({ AWS_MAX_ATTEMPTS: 'many' }))
    answers = [reset, reset, reset, kmsError('AccessDeniedException')]

    // Act
    const exhausted = await failureOf(decrypt(client))
    const denied = await failureOf(decrypt(client))
    client.destroy()

    // Assess
    expect(fromKmsError(exhausted, 'V').code).toBe('NETWORK')
    expect(exhausted).toMatchObject({ host: new URL(endpoint).host })
    expect(fromKmsError(denied, 'V').code).toBe('ACCESS_DENIED')
    expect(seen).toHaveLength(4)
  })

  it('stops at the abort signal, in a request or in a backoff, with an AbortError (→ TIMEOUT)', async () => {
    // Prepare
    vi.spyOn(Math, 'random').mockReturnValue(0.99)
    const requests = vi.spyOn(http, 'request')
    const client = new LiteKmsClient({}, lambdaEnv())
    const inRequest = new AbortController()
    const inBackoff = new AbortController()
    answers = [hang, kmsError('ThrottlingException')]

    // Act
    const hung = failureOf(decrypt(client, inRequest.signal))
    await vi.waitFor(() => expect(seen).toHaveLength(1))
    inRequest.abort()
    const backingOff = failureOf(decrypt(client, inBackoff.signal))
    await vi.waitFor(() => expect(seen).toHaveLength(2))
    inBackoff.abort()
    const failures = [await hung, await backingOff]
    client.destroy()

    // Assess
    expect(failures.map((f) => f.name)).toEqual(['AbortError', 'AbortError'])
    expect(failures.map((f) => f.message)).toEqual([
      'the request was aborted',
      'the request was aborted',
    ])
    expect(failures.map((f) => fromKmsError(f, 'V').code)).toEqual(['TIMEOUT', 'TIMEOUT'])
    expect(seen).toHaveLength(2)
    expect(requests).toHaveBeenCalledTimes(2) // none started after the abort
  })

  it('reads an answer without a plaintext or key (or not a string) as absent, and sends an SDK-like command without a blob', async () => {
    // Prepare
    const client = new LiteKmsClient({}, lambdaEnv())
    answers = [json(200, { KeyId: 7 }), json(200, { Plaintext: 7, EncryptionAlgorithm: 7 })]

    // Act
    const answer = await client.send({ input: { CiphertextBlob: undefined } })
    const notString = await client.send({ input: { CiphertextBlob: undefined } })
    client.destroy()
    new LiteKmsClient().destroy() // nothing to close before a first request

    // Assess
    expect(answer.Plaintext).toBeUndefined()
    expect(answer.KeyId).toBeUndefined()
    expect(notString.Plaintext).toBeUndefined()
    expect(notString.EncryptionAlgorithm).toBeUndefined()
    expect(seen[0]?.body).toEqual({})
  })

  it('keeps one connection alive for its requests, and destroy() closes it', async () => {
    // Prepare
    const connections: Socket[] = []
    const onConnection = (socket: Socket) => connections.push(socket)
    server.on('connection', onConnection)
    const client = new LiteKmsClient({}, lambdaEnv())

    // Act
    await decrypt(client)
    await decrypt(client)
    client.destroy()

    // Assess
    server.off('connection', onConnection)
    expect(seen).toHaveLength(2)
    expect(connections).toHaveLength(1)
    await vi.waitFor(() => expect(connections[0]?.destroyed).toBe(true))
  })

  it('wipes the buffers the answer (and its plaintext) came in once read', async () => {
    // Prepare: keep the client's buffers of the answer as Buffer.concat sees them
    const held = holdBuffersWith('Plaintext')
    const client = new LiteKmsClient({}, lambdaEnv())

    // Act
    const answer = await decrypt(client)
    client.destroy()

    // Assess
    expect(Buffer.from(answer.Plaintext ?? []).toString()).toBe('plain')
    expect(held.length).toBeGreaterThan(1)
    expect(held.filter((buffer) => buffer.some((byte) => byte !== 0))).toEqual([])
  })

  it('speaks TLS to an https endpoint', async () => {
    // Prepare: a bare TCP server that notes the first byte it gets, then hangs up
    const firstBytes: number[] = []
    const tcp = createTcpServer((socket) =>
      socket.once('data', (data: Buffer) => {
        firstBytes.push(data[0] as number)
        socket.destroy()
      }),
    )
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve))
    const { port } = tcp.address() as AddressInfo
    const client = new LiteKmsClient(
      {},
      lambdaEnv({ AWS_ENDPOINT_URL: `https://127.0.0.1:${port}`, AWS_MAX_ATTEMPTS: '1' }),
    )

    // Act
    const failure = await failureOf(decrypt(client))
    client.destroy()
    await new Promise((resolve) => tcp.close(resolve))

    // Assess
    expect(firstBytes).toEqual([0x16]) // a TLS handshake record, not a plain "POST"
    expect(fromKmsError(failure, 'V').code).toBe('NETWORK')
  })

  it('speaks https to an https endpoint (an aborted request never leaves)', async () => {
    // Prepare
    const client = new LiteKmsClient(
      {},
      { ...lambdaEnv(), AWS_ENDPOINT_URL: 'https://127.0.0.1:9' },
    )

    // Act
    const failure = await failureOf(decrypt(client, AbortSignal.abort()))
    client.destroy()

    // Assess
    expect(failure.name).toBe('AbortError')
  })
})

describe('LiteKmsClient, container credentials', () => {
  let credentialServer: Server
  let credentialsUrl: string
  const credentialRequests: IncomingMessage[] = []
  let credentialAnswer: Answer
  const expiresIn = (ms: number) => new Date(Date.now() + ms).toISOString()
  const containerCredentials = (expiration = expiresIn(3_600_000)) =>
    json(200, {
      AccessKeyId: 'ASIACONTAINER',
      SecretAccessKey: 'container-secret',
      Token: 'container-token',
      Expiration: expiration,
    })

  beforeAll(async () => {
    credentialServer = createServer((req, res) => {
      credentialRequests.push(req)
      credentialAnswer(res)
    })
    await new Promise<void>((resolve) => credentialServer.listen(0, '127.0.0.1', resolve))
    credentialsUrl = `http://127.0.0.1:${(credentialServer.address() as AddressInfo).port}/v2/credentials/abc`
  })
  afterAll(async () => {
    credentialServer.closeAllConnections()
    await new Promise((resolve) => credentialServer.close(resolve))
  })
  afterEach(() => {
    credentialRequests.length = 0
  })

  /** The Lambda environment without its keys, and these variables. */
  const containerEnv = (extra: Record<string, string>) => ({
    ...lambdaEnv({ AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '' }),
    ...extra,
  })

  it('fetches them from AWS_CONTAINER_CREDENTIALS_FULL_URI with the authorization token, once for parallel calls, and signs with them', async () => {
    // Prepare
    credentialAnswer = containerCredentials()
    const client = new LiteKmsClient(
      {},
      containerEnv({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: credentialsUrl,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: 'auth-token',
      }),
    )

    // Act
    await Promise.all([decrypt(client), decrypt(client), decrypt(client)])
    await decrypt(client)
    client.destroy()

    // Assess
    expect(credentialRequests.map((r) => [r.method, r.url, r.headers.authorization])).toEqual([
      ['GET', '/v2/credentials/abc', 'auth-token'],
    ])
    expect(seen).toHaveLength(4)
    for (const request of seen) {
      expect(request.headers.authorization).toContain('Credential=ASIACONTAINER/')
      expect(request.headers['x-amz-security-token']).toBe('container-token')
    }
  })

  it('reads the token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (over _TOKEN) at each fetch, and fetches again within 5 minutes of Expiration', async () => {
    // Prepare
    mkdirSync(TMP_DIR, { recursive: true })
    const tokenFile = join(TMP_DIR, `container-token-${process.pid}`)
    writeFileSync(tokenFile, 'file-token\n')
    credentialAnswer = containerCredentials(expiresIn(4 * 60_000))
    const client = new LiteKmsClient(
      {},
      containerEnv({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: credentialsUrl,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: 'env-token',
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
      }),
    )

    // Act
    await decrypt(client)
    writeFileSync(tokenFile, 'rotated-token')
    await decrypt(client)
    client.destroy()
    rmSync(tokenFile)

    // Assess
    expect(credentialRequests.map((r) => r.headers.authorization)).toEqual([
      'file-token',
      'rotated-token',
    ])
  })

  it('takes AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (over FULL_URI) on the ECS host 169.254.170.2', async () => {
    // Prepare: the request to the ECS host is answered by the local server instead
    credentialAnswer = containerCredentials()
    const asked: string[] = []
    const get = http.get
    vi.spyOn(http, 'get').mockImplementation(((
      url: URL,
      options: http.RequestOptions,
      callback: (res: IncomingMessage) => void,
    ) => {
      asked.push(url.href)
      return get(credentialsUrl, options, callback)
    }) as typeof http.get)
    const client = new LiteKmsClient(
      {},
      containerEnv({
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/rel',
        AWS_CONTAINER_CREDENTIALS_FULL_URI: credentialsUrl,
      }),
    )

    // Act
    await decrypt(client)
    client.destroy()

    // Assess
    expect(asked).toEqual(['http://169.254.170.2/v2/credentials/rel'])
    expect(credentialRequests[0]?.headers.authorization).toBeUndefined()
    expect(seen[0]?.headers.authorization).toContain('Credential=ASIACONTAINER/')
  })

  it.each([
    [
      'http on another host',
      'http://10.0.0.1/creds',
      /must be https, or http on loopback.*\(host: 10\.0\.0\.1\)/,
    ],
    ['http on a host starting with one', 'http://127.0.0.1.evil/c', /\(host: 127\.0\.0\.1\.evil\)/],
    [
      'another protocol on loopback',
      'ftp://127.0.0.1:1/c',
      /must be https.*\(host: 127\.0\.0\.1:1\)/,
    ],
    ['not a URL', 'not a url', /AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL/],
  ])('refuses a FULL_URI %s before any request, as the SDK does', async (_name, uri, message) => {
    // Prepare
    const requests = vi.spyOn(http, 'get')
    const client = new LiteKmsClient({}, containerEnv({ AWS_CONTAINER_CREDENTIALS_FULL_URI: uri }))

    // Act
    const failure = fromKmsError(await failureOf(decrypt(client)), 'V')

    // Assess
    expect(failure.code).toBe('ACCESS_DENIED')
    expect(failure.message).toMatch(message)
    expect(requests).not.toHaveBeenCalled()
    expect(seen).toHaveLength(0)
  })

  it('refuses a RELATIVE_URI that moves the request off the ECS host, naming that variable', async () => {
    // Prepare
    const requests = vi.spyOn(http, 'get')
    const client = new LiteKmsClient(
      {},
      containerEnv({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '@10.0.0.1/c' }),
    )

    // Act
    const failure = fromKmsError(await failureOf(decrypt(client)), 'V')

    // Assess
    expect(failure.code).toBe('ACCESS_DENIED')
    expect(failure.message).toMatch(
      / AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be https.*\(host: 10\.0\.0\.1\)/,
    )
    expect(requests).not.toHaveBeenCalled()
  })

  it.each([
    ['127.0.0.1', 'http://127.10.20.30:1/c'],
    ['localhost', 'http://localhost:1/c'],
    ['::1', 'http://[::1]:1/c'],
    ['the ECS host', 'http://169.254.170.2:1/c'],
    ['the EKS host', 'http://169.254.170.23:1/c'],
    ['the EKS IPv6 host', 'http://[fd00:ec2::23]:1/c'],
    ['https anywhere', 'https://creds.example:1/c'],
  ])('accepts %s as FULL_URI', async (_name, uri) => {
    // Prepare: every request fails before it leaves (its URL is what is checked)
    const requested: string[] = []
    const https = process.getBuiltinModule('node:https')
    for (const transport of [http, https]) {
      vi.spyOn(transport, 'get').mockImplementation(((url: URL) => {
        requested.push(`${transport === https ? 'https' : 'http'} ${url.href}`)
        throw new Error('not sent') // not a network error: never retried
      }) as typeof http.get)
    }
    const client = new LiteKmsClient({}, containerEnv({ AWS_CONTAINER_CREDENTIALS_FULL_URI: uri }))

    // Act
    await failureOf(decrypt(client))

    // Assess
    expect(requested).toEqual([`${new URL(uri).protocol.slice(0, -1)} ${new URL(uri).href}`])
  })

  it.each([
    ['an HTTP error', json(403, { Code: 'denied' }), 'answered HTTP 403'],
    [
      'no SecretAccessKey',
      json(200, { AccessKeyId: 'A', Token: 'T', Expiration: expiresIn(1e6) }),
      'answered without',
    ],
    [
      'no Token',
      json(200, { AccessKeyId: 'A', SecretAccessKey: 'S', Expiration: expiresIn(1e6) }),
      'answered without AccessKeyId, SecretAccessKey, Token and Expiration',
    ],
    [
      'a bad Expiration',
      json(200, { AccessKeyId: 'A', SecretAccessKey: 'S', Token: 'T', Expiration: 'soon' }),
      'answered without',
    ],
    ['no JSON', json(200, 'SecretAccessKey'), 'answered without'],
    ['a reset connection', reset, '(ECONNRESET)'],
    ["no answer within the SDK's 1 s", hang, '(ETIMEDOUT)'],
  ])(
    'fails with ACCESS_DENIED naming the endpoint and the cause on %s, never its body',
    async (_name, answer, cause) => {
      // Prepare
      credentialAnswer = answer
      const client = new LiteKmsClient(
        {},
        containerEnv({ AWS_CONTAINER_CREDENTIALS_FULL_URI: credentialsUrl }),
      )

      // Act
      const failure = fromKmsError(await failureOf(decrypt(client)), 'V')
      client.destroy()

      // Assess
      expect(failure.code).toBe('ACCESS_DENIED')
      expect(failure.message).toContain(
        `container credentials endpoint ${new URL(credentialsUrl).host}`,
      )
      expect(failure.message).toContain(cause)
      expect(failure.message).not.toMatch(/denied"|"A"|SecretAccessKey"/)
      expect(seen).toHaveLength(0)
    },
  )

  it.each([
    [
      'an unreadable token file',
      { AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: '/nonexistent/token' },
      'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE cannot be read (ENOENT)',
    ],
    [
      'a token with a line break',
      { AWS_CONTAINER_AUTHORIZATION_TOKEN: 'a\r\nb' },
      'holds a line break',
    ],
  ])('fails with ACCESS_DENIED on %s, before any request', async (_name, extra, message) => {
    // Prepare
    const client = new LiteKmsClient(
      {},
      containerEnv({ AWS_CONTAINER_CREDENTIALS_FULL_URI: credentialsUrl, ...extra }),
    )

    // Act
    const failure = fromKmsError(await failureOf(decrypt(client)), 'V')

    // Assess
    expect(failure).toMatchObject({ code: 'ACCESS_DENIED' })
    expect(failure.message).toContain(message)
    expect(credentialRequests).toHaveLength(0)
  })

  it('wipes the buffers the credentials came in once read', async () => {
    // Prepare: keep the buffers of the answer as Buffer.concat sees them
    credentialAnswer = containerCredentials()
    const held = holdBuffersWith('container-secret')
    const client = new LiteKmsClient(
      {},
      containerEnv({ AWS_CONTAINER_CREDENTIALS_FULL_URI: credentialsUrl }),
    )

    // Act
    await decrypt(client)
    client.destroy()

    // Assess
    expect(seen[0]?.headers.authorization).toContain('Credential=ASIACONTAINER/')
    expect(held.length).toBeGreaterThan(1)
    expect(held.filter((buffer) => buffer.some((byte) => byte !== 0))).toEqual([])
  })

  it('stops at the abort signal while it fetches them (→ TIMEOUT), and tries again on the next call', async () => {
    // Prepare
    credentialAnswer = hang
    const client = new LiteKmsClient(
      {},
      containerEnv({ AWS_CONTAINER_CREDENTIALS_FULL_URI: credentialsUrl }),
    )
    const abort = new AbortController()

    // Act
    const pending = failureOf(decrypt(client, abort.signal))
    await vi.waitFor(() => expect(credentialRequests).toHaveLength(1))
    abort.abort()
    const failure = await pending
    credentialAnswer = containerCredentials()
    const answer = await decrypt(client)
    client.destroy()

    // Assess
    expect(fromKmsError(failure, 'V').code).toBe('TIMEOUT')
    expect(Buffer.from(answer.Plaintext ?? []).toString()).toBe('plain')
    expect(credentialRequests).toHaveLength(2)
  })
})

describe('middy-kms-secrets/lite', () => {
  it('loadSecrets and kmsSecrets decrypt with LiteKmsClient by default', async () => {
    // Prepare
    vi.resetModules()
    for (const [name, value] of Object.entries(lambdaEnv())) vi.stubEnv(name, value)
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'f')
    vi.stubEnv('API_TOKEN', Buffer.alloc(64, 7).toString('base64')) // as long as a real blob
    const lite = await import('../../src/lite.ts')
    answers = [ok('token')]

    // Act
    const secrets = await lite.loadSecrets({ fetchData: { token: 'API_TOKEN' } })
    vi.unstubAllEnvs()

    // Assess
    expect(secrets).toEqual({ token: 'token' })
    expect(lite.defaults.AwsClient).toBe(lite.LiteKmsClient)
    expect(lite.kmsSecretsDefaults.AwsClient).toBe(lite.LiteKmsClient)
    expect(
      typeof lite.kmsSecrets({ fetchData: { token: 'API_TOKEN' }, disablePrefetch: true }).before,
    ).toBe('function')
    expect(seen[0]?.body).toMatchObject({ EncryptionContext: { LambdaFunctionName: 'f' } })
  })

  // What a user's `esbuild --bundle --platform=node --format=esm --target=node24` does.
  const plainFlags = {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    logLevel: 'silent',
  } as const

  it('is a pure-ESM graph of its own files and node: imports: a plain esbuild bundle holds nothing else', async () => {
    // Act
    const result = await build({
      ...plainFlags,
      entryPoints: ['src/lite.ts'],
      write: false,
      metafile: true,
    })

    // Assess
    // Relative to the working directory: under Stryker, node_modules is a link out of its sandbox.
    const { inputs } = result.metafile
    expect(Object.keys(inputs).filter((input) => !/^src\/.+\.ts$/.test(input))).toEqual([])
    const external = Object.values(inputs).flatMap(({ imports }) =>
      imports.filter((i) => i.external).map((i) => i.path),
    )
    expect(external.length).toBeGreaterThan(0)
    expect(external.filter((path) => !path.startsWith('node:'))).toEqual([])
  })

  it('imports no @aws-sdk type either: its .d.ts graph needs no AWS SDK installed', () => {
    // Prepare: every specifier of the modules src/lite.ts reaches, type-only imports included
    const packages = new Set<string>()
    const walk = (file: string, seen: Set<string>) => {
      if (seen.has(file)) return
      seen.add(file)
      for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)) {
        if (specifier?.startsWith('.')) walk(resolve(dirname(file), specifier), seen)
        else packages.add(specifier as string)
      }
    }

    // Act
    walk(join(REPO_ROOT, 'src/lite.ts'), new Set())

    // Assess
    expect(packages.size).toBeGreaterThan(0)
    expect([...packages].filter((name) => name.startsWith('@aws-sdk/'))).toEqual([])
  })

  it('bundled with plain ESM flags, starts when imported as ESM (as the Lambda runtime does)', async () => {
    // Prepare: a tiny handler, bundled to a .mjs file
    mkdirSync(TMP_DIR, { recursive: true })
    const file = join(TMP_DIR, `lite-handler-${process.pid}.mjs`)
    await build({
      ...plainFlags,
      stdin: {
        contents: `import { loadSecrets } from './src/lite.ts'
          export const handler = () => loadSecrets({ fetchData: { token: 'API_TOKEN' } })`,
        resolveDir: REPO_ROOT,
        loader: 'ts',
      },
      outfile: file,
    })

    // Act: an ES module importing it, in a fresh process (where require is not defined)
    const child = await runNode(
      `const { handler } = await import(${JSON.stringify(pathToFileURL(file).href)})
      console.log(JSON.stringify({ handler: typeof handler }))`,
    )
    rmSync(file, { force: true })

    // Assess
    expect(child.stderr).toBe('')
    expect(child.json).toEqual({ handler: 'function' })
  })
})
