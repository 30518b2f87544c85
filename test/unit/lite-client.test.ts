// LiteKmsClient against a real local HTTP server on 127.0.0.1: what it signs and sends,
// how it reads KMS's answers and errors, its retries, and the abort signal.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { build } from 'esbuild'
import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { fromKmsError } from '../../src/core/errors.ts'
import { DecryptCommand, LiteKmsClient, targetOf } from '../../src/core/lite-client.ts'

interface Seen {
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
      seen.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) })
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

  it('resolves the endpoint as the SDK does: option, AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL, then KMS of the region', () => {
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
    expect(() => targetOf({}, {})).toThrow('Region is missing')
  })

  it('without credentials fails as the SDK does (CredentialsProviderError → ACCESS_DENIED)', async () => {
    // Prepare
    const client = new LiteKmsClient({}, { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: endpoint })

    // Act
    const failure = await failureOf(decrypt(client))

    // Assess
    expect(failure.name).toBe('CredentialsProviderError')
    expect(fromKmsError(failure, 'V').code).toBe('ACCESS_DENIED')
    expect(seen).toHaveLength(0)
  })

  it('names KMS errors as the SDK does, with $metadata, whatever the form of the type', async () => {
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
    ]

    // Act
    const failures = []
    for (let i = 0; i < 5; i++) failures.push(await failureOf(decrypt(client)))
    client.destroy()

    // Assess
    expect(failures.map((f) => [f.name, f.message, f.$metadata?.httpStatusCode])).toEqual([
      ['InvalidCiphertextException', '', 400],
      ['DisabledException', 'x', 400],
      ['NotFoundException', 'gone', 400],
      ['HTTP418Error', '', 418],
      ['HTTP400Error', '', 400],
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
    expect(fromKmsError(denied, 'V').code).toBe('ACCESS_DENIED')
    expect(seen).toHaveLength(4)
  })

  it('stops at the abort signal, in a request or in a backoff, with an AbortError (→ TIMEOUT)', async () => {
    // Prepare
    vi.spyOn(Math, 'random').mockReturnValue(0.99)
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
    expect(failures.map((f) => fromKmsError(f, 'V').code)).toEqual(['TIMEOUT', 'TIMEOUT'])
    expect(seen).toHaveLength(2)
  })

  it('reads an answer without a plaintext or key as absent, and sends an SDK-like command without a blob', async () => {
    // Prepare
    const client = new LiteKmsClient({}, lambdaEnv())
    answers = [json(200, { KeyId: 7 })]

    // Act
    const answer = await client.send({ input: { CiphertextBlob: undefined } })
    client.destroy()
    new LiteKmsClient().destroy() // nothing to close before a first request

    // Assess
    expect(answer.Plaintext).toBeUndefined()
    expect(answer.KeyId).toBeUndefined()
    expect(seen[0]?.body).toEqual({})
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

  it('bundles without a byte of the AWS SDK (types only)', async () => {
    // Act
    const result = await build({
      entryPoints: ['src/lite.ts'],
      bundle: true,
      write: false,
      metafile: true,
      format: 'esm',
      platform: 'node',
      logLevel: 'silent',
    })

    // Assess
    // Relative to the working directory: under Stryker, node_modules is a link out of its sandbox.
    const inputs = Object.keys(result.metafile.inputs)
    expect(inputs.filter((input) => input.endsWith('node_modules/aws4/aws4.js'))).toHaveLength(1)
    expect(inputs.filter((input) => /@aws-sdk|@smithy|@aws-crypto/.test(input))).toEqual([])
  })
})
