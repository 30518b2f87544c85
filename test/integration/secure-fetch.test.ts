import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { CreateKeyCommand, EncryptCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms'
import { build } from 'esbuild'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { awsEnv } from '../../scripts/local/aws-env.ts'
import { startFaultProxy } from '../../scripts/local/fault-proxy.ts'
import {
  type HttpsServerOptions,
  type RunningHttpsServer,
  startHttpsServer,
} from '../../scripts/local/https-server.ts'
import { type CertKey, createTestPki, spkiPin, type TestPki } from '../../scripts/local/tls.ts'
import { EnvelopeKind, sealEnvelope } from '../../src/core/envelope.ts'
import { awsCliEncrypt, kmsClient } from '../support/aws.ts'
import { REPO_ROOT, type RunNodeResult, runNode, TMP_DIR } from '../support/child.ts'
import { expectNoSecrets } from '../support/no-leak.ts'

const motoEndpoint = inject('motoEndpoint')
const FUNCTION_NAME = `it-secure-fetch-${randomUUID().slice(0, 8)}`
const TOKEN = `sf_${randomBytes(24).toString('base64url')}`
const CA_FILE = 'certs/upstream-ca.pem'
const CLIENT_TLS_FILE = 'secrets/client-tls.kse'

let pki: TestPki
let workDir: string
let bundle: string
let taskRoot: string
let keyId: string
let apiToken: string
let secrets: string[]
const cleanups: Array<() => unknown> = []

/** The same build SAM runs (template.yaml BuildProperties). */
async function buildHandler(outfile: string): Promise<void> {
  await build({
    entryPoints: [join(REPO_ROOT, 'functions/secure-fetch/handler.ts')],
    outfile,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    mainFields: ['module', 'main'],
    banner: {
      js: "import { createRequire as __kmsCreateRequire } from 'node:module'; const require = __kmsCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
  })
}

/** The client key's base64 body (joined, and line by line): what a leak would show. */
function keyMaterial(key: CertKey): string[] {
  const lines = key.key.split('\n').filter((line) => line !== '' && !line.startsWith('-----'))
  return [key.key, lines.join(''), ...lines.filter((line) => line.length >= 16)]
}

beforeAll(async () => {
  // The function imports the library by its package name: the built dist/.
  if (!existsSync(join(REPO_ROOT, 'dist', 'index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` before the integration tests')
  }
  pki = await createTestPki()
  workDir = join(TMP_DIR, `secure-fetch-${randomUUID()}`)
  bundle = join(workDir, 'bundle', 'handler.mjs')
  taskRoot = join(workDir, 'task')
  await buildHandler(bundle)

  const kms = kmsClient(motoEndpoint)
  const key = await kms.send(new CreateKeyCommand({ Description: 'secure-fetch integration' }))
  keyId = key.KeyMetadata?.KeyId as string
  const context = { LambdaFunctionName: FUNCTION_NAME }
  const encrypted = await kms.send(
    new EncryptCommand({
      KeyId: keyId,
      Plaintext: Buffer.from(TOKEN),
      EncryptionContext: context,
    }),
  )
  apiToken = Buffer.from(encrypted.CiphertextBlob as Uint8Array).toString('base64')

  // The mTLS bundle as an envelope secrets file inside the "package" (LAMBDA_TASK_ROOT).
  const dataKey = await kms.send(
    new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }),
  )
  const sealed = sealEnvelope({
    kind: EnvelopeKind.Bundle,
    plaintext: Buffer.from(JSON.stringify({ cert: pki.client.cert, key: pki.client.key })),
    dataKey: dataKey.Plaintext as Uint8Array,
    encryptedKey: dataKey.CiphertextBlob as Uint8Array,
    context,
  })
  mkdirSync(join(taskRoot, 'certs'), { recursive: true })
  mkdirSync(join(taskRoot, 'secrets'), { recursive: true })
  writeFileSync(join(taskRoot, CA_FILE), pki.ca.cert)
  writeFileSync(join(taskRoot, CLIENT_TLS_FILE), `${sealed}\n`)
  secrets = [TOKEN, ...keyMaterial(pki.client)]
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true })
})

async function server(
  options: Partial<HttpsServerOptions> & { tls?: CertKey } = {},
): Promise<RunningHttpsServer> {
  const { tls, ...rest } = options
  const running = await startHttpsServer({ ...(tls ?? pki.server), ...rest })
  cleanups.push(() => running.stop())
  return running
}

interface Invocation {
  /** API Gateway path parameter `id` (route `GET /fetch/{id}`). */
  id?: string
  method?: string
  /** What context.getRemainingTimeInMillis() starts from. Default 15 000 (the template's). */
  remainingMs?: number
}

interface Answer {
  statusCode: number
  headers: Record<string, string>
  body: string
  json: Record<string, unknown> | undefined
  ms: number
}

interface Run extends RunNodeResult {
  answers: Answer[]
  output: string
}

function httpApiEvent(invocation: Invocation) {
  const method = invocation.method ?? 'GET'
  const rawPath = invocation.id === undefined ? '/fetch' : `/fetch/${invocation.id}`
  const routeKey = invocation.id === undefined ? `${method} /fetch` : `${method} /fetch/{id}`
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: '',
    headers: { accept: 'application/json', host: 'api.example.test' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.test',
      domainPrefix: 'api',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 't' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: Date.now(),
    },
    ...(invocation.id !== undefined && { pathParameters: { id: invocation.id } }),
    isBase64Encoded: false,
  }
}

/** One cold container: imports the bundle, then runs the invocations in turn. */
const CHILD = `
import { randomUUID } from 'node:crypto'
const input = JSON.parse(await new Promise((resolve) => {
  let text = ''
  process.stdin.setEncoding('utf8').on('data', (c) => { text += c }).on('end', () => resolve(text))
}))
const { handler } = await import(input.bundle)
const answers = []
for (const { event, remainingMs } of input.invocations) {
  const deadline = Date.now() + remainingMs
  const context = {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:' + process.env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/test',
    logStreamName: 'test',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  }
  const started = performance.now()
  const answer = await handler(event, context)
  answers.push({ ...answer, ms: Math.round(performance.now() - started) })
}
process.stdout.write(JSON.stringify({ answers }) + '\\n', () => process.exit(0))
`

async function invoke(
  env: Record<string, string | undefined>,
  invocations: Invocation[] = [{}],
  endpoint = motoEndpoint,
): Promise<Run> {
  const run = await runNode(CHILD, {
    env: {
      ...awsEnv(endpoint),
      AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      LAMBDA_TASK_ROOT: taskRoot,
      API_TOKEN: apiToken,
      UPSTREAM_CA_FILE: CA_FILE,
      POWERTOOLS_SERVICE_NAME: 'secure-fetch',
      POWERTOOLS_METRICS_NAMESPACE: 'SecureFetchTests',
      LOG_LEVEL: 'DEBUG',
      ...env,
    },
    input: JSON.stringify({
      bundle: pathToFileURL(bundle).href,
      invocations: invocations.map((invocation) => ({
        event: httpApiEvent(invocation),
        remainingMs: invocation.remainingMs ?? 15_000,
      })),
    }),
    timeoutMs: 30_000,
  })
  const output = run.stdout + run.stderr
  // Every child's output, whatever the test: no token, no key, in any encoding.
  expectNoSecrets(output, secrets)
  const result = run.json as { answers?: Array<Omit<Answer, 'json'>> } | undefined
  const answers = (result?.answers ?? []).map((answer) => ({
    ...answer,
    json: answer.headers?.['content-type']?.startsWith('application/json')
      ? (JSON.parse(answer.body) as Record<string, unknown>)
      : undefined,
  }))
  return { ...run, answers, output }
}

/** The structured log lines (Powertools JSON: WARN and ERROR on stderr) and EMF metric blobs. */
function logLines(run: Run): Array<Record<string, unknown>> {
  return `${run.stdout}\n${run.stderr}`
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

function metricNames(run: Run): string[] {
  return logLines(run).flatMap((line) => {
    const aws = line._aws as { CloudWatchMetrics?: Array<{ Metrics: Array<{ Name: string }> }> }
    return (aws?.CloudWatchMetrics ?? []).flatMap((m) => m.Metrics.map((metric) => metric.Name))
  })
}

async function expectNothingSent(upstream: RunningHttpsServer) {
  await upstream.drained()
  expect(upstream.requests).toHaveLength(0)
  expect(upstream.applicationBytesReceived).toBe(0)
}

function expectSucceeded(run: Run) {
  if (run.code !== 0 || run.answers.length === 0) {
    throw new Error(`child failed (code ${run.code}):\n${run.output.slice(-3000)}`)
  }
}

describe('a trusted, valid upstream', () => {
  it('gets the decrypted bearer token; warm invocations reuse the connection and decrypt nothing', async () => {
    // Prepare
    const upstream = await server({ handler: (req) => ({ json: { ok: true, path: req.path } }) })
    const proxy = await startFaultProxy({ target: motoEndpoint })
    cleanups.push(() => proxy.stop())

    // Act
    const run = await invoke(
      { UPSTREAM_URL: `${upstream.url}/v1/items/` },
      [{}, { id: 'abc-1' }],
      proxy.endpoint,
    )

    // Assess
    expectSucceeded(run)
    expect(run.answers.map((a) => a.statusCode)).toEqual([200, 200])
    expect(run.answers.map((a) => a.json)).toEqual([
      { ok: true, path: '/v1/items' },
      { ok: true, path: '/v1/items/abc-1' },
    ])
    expect(run.answers[0]?.headers['cache-control']).toBe('no-store')
    expect(upstream.requests.map((r) => r.headers.authorization)).toEqual([
      `Bearer ${TOKEN}`,
      `Bearer ${TOKEN}`,
    ])
    expect(['TLSv1.2', 'TLSv1.3']).toContain(upstream.requests[0]?.tlsVersion)
    expect(upstream.tlsHandshakes).toBe(1) // keep-alive across invocations
    expect(proxy.counts()).toEqual({ 'TrentService.Decrypt': 1 }) // once per container
    const metrics = metricNames(run)
    expect(metrics.filter((name) => name === 'ColdStart')).toHaveLength(1)
    expect(metrics.filter((name) => name === 'DecryptLatency')).toHaveLength(1)
    expect(metrics.filter((name) => name === 'UpstreamLatency')).toHaveLength(2)
    expect(logLines(run).some((line) => line.message === 'upstream answered')).toBe(true)
  })

  it('decrypts a token encrypted with the AWS CLI (`aws kms encrypt`, as the console helper)', async () => {
    // Prepare
    const ciphertext = await awsCliEncrypt({
      endpoint: motoEndpoint,
      keyId,
      plaintext: TOKEN,
      functionName: FUNCTION_NAME,
    })
    const upstream = await server()

    // Act
    const run = await invoke({ UPSTREAM_URL: upstream.url, API_TOKEN: ciphertext })

    // Assess
    expectSucceeded(run)
    expect(run.answers[0]?.statusCode).toBe(200)
    expect(upstream.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`)
  })
})

describe('refused before the token is sent', () => {
  it.each([
    ['an untrusted CA', { tls: 'untrustedServer' }, {}, 'TLS_UNTRUSTED'],
    ['a wrong host name', { tls: 'wrongHostServer' }, {}, 'TLS_HOSTNAME'],
    ['an expired certificate', { tls: 'expiredServer' }, {}, 'TLS_EXPIRED'],
    ['a pin mismatch', {}, { pin: 'untrustedServer' }, 'TLS_PIN_MISMATCH'],
    [
      'a TLS 1.1-only server',
      { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' },
      {},
      'TLS_PROTOCOL',
    ],
  ] as const)('%s: 502 %s', async (_label, serverOptions, extra, code) => {
    // Prepare
    const { tls, ...rest } = serverOptions as Partial<HttpsServerOptions> & {
      tls?: keyof TestPki
    }
    const upstream = await server({
      ...rest,
      ...(tls !== undefined && { tls: pki[tls] as CertKey }),
    })
    const pinned = (extra as { pin?: 'untrustedServer' }).pin
    const env = {
      UPSTREAM_URL: upstream.url,
      ...(pinned !== undefined && { UPSTREAM_SPKI_PINS: spkiPin(pki[pinned].cert) }),
    }

    // Act
    const run = await invoke(env)

    // Assess
    expectSucceeded(run)
    const [answer] = run.answers
    expect(answer?.statusCode).toBe(502)
    expect(answer?.json).toMatchObject({ code, message: expect.any(String) })
    expect(answer?.body).not.toContain('127.0.0.1') // no upstream detail to the caller
    await expectNothingSent(upstream)
    const failure = logLines(run).find((line) => line.message === 'upstream call failed')
    expect(failure).toMatchObject({ errorCode: code, attempts: 1 })
    expect(metricNames(run)).toContain('UpstreamError')
    expect(metricNames(run)).toContain('ServerError')
  })
})

describe('mutual TLS', () => {
  it('works with the client certificate from the secrets file (one KMS call for the file)', async () => {
    // Prepare
    const upstream = await server({ ca: pki.ca.cert, requestCert: true })
    const proxy = await startFaultProxy({ target: motoEndpoint })
    cleanups.push(() => proxy.stop())

    // Act
    const run = await invoke(
      { UPSTREAM_URL: upstream.url, CLIENT_TLS_FILE },
      [{}, { id: 'second' }],
      proxy.endpoint,
    )

    // Assess
    expectSucceeded(run)
    expect(run.answers.map((a) => a.statusCode)).toEqual([200, 200])
    expect(upstream.requests.map((r) => r.clientCertSubject)).toEqual([
      'secure-fetch test client',
      'secure-fetch test client',
    ])
    expect(upstream.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`)
    // The token and the file, once each, for the whole container.
    expect(proxy.counts()).toEqual({ 'TrentService.Decrypt': 2 })
  })

  it('fails without the client certificate, and no request reaches the server', async () => {
    // Prepare
    const upstream = await server({ ca: pki.ca.cert, requestCert: true })

    // Act
    const run = await invoke({ UPSTREAM_URL: upstream.url })

    // Assess
    expectSucceeded(run)
    const [answer] = run.answers
    expect(answer?.statusCode).toBe(502)
    expect(['TLS_HANDSHAKE', 'NETWORK']).toContain(answer?.json?.code)
    await expectNothingSent(upstream)
    expect(upstream.tlsErrors.length).toBeGreaterThan(0)
  })
})

describe('timeouts', () => {
  it('a slow upstream hits the response timeout: 504', async () => {
    // Prepare
    const upstream = await server({ delayMs: 3000 })

    // Act
    const run = await invoke({ UPSTREAM_URL: upstream.url, RESPONSE_TIMEOUT_MS: '300' })

    // Assess
    expectSucceeded(run)
    const [answer] = run.answers
    expect(answer?.statusCode).toBe(504)
    expect(answer?.json).toMatchObject({ code: 'RESPONSE_TIMEOUT' })
    expect(answer?.ms).toBeLessThan(2500)
    expect(upstream.requests).toHaveLength(1) // sent once: a timeout is not retried
  })

  it('the Lambda deadline bounds the call when it comes first: 504 before the function times out', async () => {
    // Prepare
    const upstream = await server({ delayMs: 5000 })

    // Act: 1.5 s left, response timeout 10 s.
    const run = await invoke({ UPSTREAM_URL: upstream.url, RESPONSE_TIMEOUT_MS: '10000' }, [
      { remainingMs: 1500 },
    ])

    // Assess
    expectSucceeded(run)
    const [answer] = run.answers
    expect(answer?.statusCode).toBe(504)
    expect(answer?.json).toMatchObject({ code: 'DEADLINE_EXCEEDED' })
    expect(answer?.ms).toBeLessThan(1500)
  })
})

describe('bad input and bad configuration', () => {
  it('answers 400 for a bad id and 405 for another method, without calling the upstream', async () => {
    // Prepare
    const upstream = await server()

    // Act
    const run = await invoke({ UPSTREAM_URL: upstream.url }, [
      { id: '..' },
      { id: 'a%2Fb' },
      { method: 'POST' },
    ])

    // Assess
    expectSucceeded(run)
    expect(run.answers.map((a) => [a.statusCode, a.json?.code])).toEqual([
      [400, 'BAD_REQUEST'],
      [400, 'BAD_REQUEST'],
      [405, 'METHOD_NOT_ALLOWED'],
    ])
    expect(upstream.tlsHandshakes).toBe(0)
  })

  it('answers 500 SECRETS_UNAVAILABLE when KMS refuses the token, and sends nothing', async () => {
    // Prepare: a ciphertext bound to another function name.
    const upstream = await server()
    const other = await kmsClient(motoEndpoint).send(
      new EncryptCommand({
        KeyId: keyId,
        Plaintext: Buffer.from(TOKEN),
        EncryptionContext: { LambdaFunctionName: 'another-function' },
      }),
    )

    // Act
    const run = await invoke({
      UPSTREAM_URL: upstream.url,
      API_TOKEN: Buffer.from(other.CiphertextBlob as Uint8Array).toString('base64'),
    })

    // Assess
    expectSucceeded(run)
    expect(run.answers[0]?.statusCode).toBe(500)
    expect(run.answers[0]?.json).toMatchObject({ code: 'SECRETS_UNAVAILABLE' })
    expect(upstream.tlsHandshakes).toBe(0)
    const failure = logLines(run).find((line) => line.message === 'request failed')
    expect(failure).toMatchObject({ errorName: 'KmsSecretsError', variable: 'API_TOKEN' })
  })

  it('fails the INIT phase with every bad variable named, and no value echoed', async () => {
    // Act
    const run = await invoke({
      UPSTREAM_URL: 'http://user:pw@upstream.example.test',
      UPSTREAM_SPKI_PINS: 'not-a-pin',
      UPSTREAM_CA_FILE: 'certs/missing.pem',
      CONNECT_TIMEOUT_MS: 'soon',
    })

    // Assess
    expect(run.code).not.toBe(0)
    expect(run.output).toContain('ConfigError')
    for (const name of [
      'UPSTREAM_URL',
      'UPSTREAM_SPKI_PINS',
      'UPSTREAM_CA_FILE',
      'CONNECT_TIMEOUT_MS',
    ]) {
      expect(run.output).toContain(name)
    }
    expect(run.output).not.toContain('pw@')
    expect(run.output).not.toContain('not-a-pin')
  })
})
