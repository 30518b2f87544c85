/**
 * The secure-fetch handler in-process: the whole Middy chain (Powertools Logger and Metrics, the
 * error mapper, the event check, kmsSecrets from the built package, the upstream call) with
 * aws-sdk-client-mock standing in for KMS and a local HTTPS server as the upstream. Output is
 * captured *before* the library's log guard (redactLogs) could mask anything, so the assertions
 * prove the function itself never writes a secret.
 */
import { randomUUID } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { type RunningHttpsServer, startHttpsServer } from '../../../scripts/local/https-server.ts'
import { type CertKey, createTestPki, type TestPki } from '../../../scripts/local/tls.ts'
import { TMP_DIR } from '../../support/child.ts'
import { expectNoSecrets } from '../../support/no-leak.ts'
import { fakeKms, settle } from '../fake-kms.ts'

// secure-fetch decrypts with LiteKmsClient (middy-kms-secrets/lite); here the same library
// on the SDK's client stands in, so the SDK mock answers. The lite client has its own
// tests (test/unit/lite-client.test.ts) and secure-fetch runs on it for real against
// moto in test/integration/secure-fetch.test.ts.
vi.mock('middy-kms-secrets/lite', () => import('middy-kms-secrets'))

const TOKEN = `tok_handler-${randomUUID()}`

let pki: TestPki
let dir: string
let fake: ReturnType<typeof fakeKms>
let output: string[]
const cleanups: Array<() => unknown> = []

beforeAll(async () => {
  pki = await createTestPki()
  dir = join(TMP_DIR, `secure-fetch-unit-${randomUUID()}`)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'ca.pem'), pki.ca.cert)
})

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

beforeEach(() => {
  fake = fakeKms()
  output = []
  vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'my-function')
  vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand')
  vi.stubEnv('KMS_SECRETS_FUNCTION_NAME', '')
  vi.stubEnv('AWS_REGION', 'us-east-1')
  vi.stubEnv('LAMBDA_TASK_ROOT', dir)
  vi.stubEnv('UPSTREAM_CA_FILE', 'ca.pem')
  vi.stubEnv('API_TOKEN', fake.encrypt('token', TOKEN))
  vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'secure-fetch')
  vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'Unit')
  vi.stubEnv('LOG_LEVEL', 'DEBUG')
})

afterEach(async () => {
  vi.restoreAllMocks()
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  fake.kms.restore()
  vi.unstubAllEnvs()
})

async function server(tls: CertKey = pki.server): Promise<RunningHttpsServer> {
  const running = await startHttpsServer({ ...tls })
  cleanups.push(() => running.stop())
  return running
}

/** Imports a fresh handler (one cold container), then records everything it writes. */
async function coldHandler() {
  vi.resetModules()
  const { handler } = await import('../../../functions/secure-fetch/handler.ts')
  await settle() // the INIT prefetch, and the log guard it installs
  // Kept, not passed on: the test run's own output stays free of the function's log lines.
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown) => {
      output.push(String(chunk))
      return true
    }) as typeof stream.write)
  }
  return handler
}

const event = (id?: string) =>
  ({
    version: '2.0',
    rawPath: id === undefined ? '/fetch' : `/fetch/${id}`,
    requestContext: { http: { method: 'GET' } },
    ...(id !== undefined && { pathParameters: { id } }),
  }) as unknown as APIGatewayProxyEventV2

const context = () =>
  ({
    functionName: 'my-function',
    awsRequestId: randomUUID(),
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:my-function',
    memoryLimitInMB: '256',
    functionVersion: '$LATEST',
    getRemainingTimeInMillis: () => 10_000,
  }) as unknown as Context

const metricNames = () =>
  output
    .join('')
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .flatMap((line) =>
      (
        JSON.parse(line)._aws.CloudWatchMetrics as Array<{ Metrics: Array<{ Name: string }> }>
      ).flatMap((m) => m.Metrics.map((metric) => metric.Name)),
    )

describe('secure-fetch handler', () => {
  it('calls the upstream with the token and relays the answer; metrics for cold start, decrypt and upstream', async () => {
    // Prepare
    const upstream = await server()
    vi.stubEnv('UPSTREAM_URL', `${upstream.url}/api`)
    const handler = await coldHandler()

    // Act
    const first = await handler(event('x1'), context())
    const second = await handler(event(), context())

    // Assess
    expect(first).toMatchObject({ statusCode: 200 })
    expect(JSON.parse(first.body ?? '')).toEqual({ ok: true, path: '/api/x1' })
    expect(second).toMatchObject({ statusCode: 200 })
    expect(upstream.requests.map((r) => r.headers.authorization)).toEqual([
      `Bearer ${TOKEN}`,
      `Bearer ${TOKEN}`,
    ])
    expect(upstream.tlsHandshakes).toBe(1)
    expect(fake.decryptCalls()).toBe(1)
    const names = metricNames()
    expect(names.filter((n) => n === 'ColdStart')).toHaveLength(1)
    expect(names.filter((n) => n === 'DecryptLatency')).toHaveLength(1)
    expect(names.filter((n) => n === 'UpstreamLatency')).toHaveLength(2)
    expectNoSecrets(output.join(''), [TOKEN])
  })

  it('answers 502 with the TLS code, sends nothing, and counts the error by code', async () => {
    // Prepare
    const upstream = await server(pki.untrustedServer)
    vi.stubEnv('UPSTREAM_URL', upstream.url)
    const handler = await coldHandler()

    // Act
    const answer = await handler(event(), context())

    // Assess
    expect(answer.statusCode).toBe(502)
    expect(JSON.parse(answer.body ?? '')).toMatchObject({ code: 'TLS_UNTRUSTED' })
    await upstream.drained()
    expect(upstream.requests).toHaveLength(0)
    expect(upstream.applicationBytesReceived).toBe(0)
    const emf = output.find((line) => line.includes('"UpstreamError"')) ?? ''
    expect(JSON.parse(emf)).toMatchObject({ ErrorCode: 'TLS_UNTRUSTED', UpstreamError: 1 })
    expect(output.join('')).toContain('"errorCode":"TLS_UNTRUSTED"')
    expect(metricNames().filter((n) => n === 'ServerError')).toHaveLength(1)
    expectNoSecrets(output.join(''), [TOKEN])
  })

  it('counts an upstream refusal it answers as 502 (e.g. a wrong token) as ServerError', async () => {
    // Prepare
    const upstream = await startHttpsServer({
      ...pki.server,
      handler: () => ({ status: 401, json: { error: 'bad token' } }),
    })
    cleanups.push(() => upstream.stop())
    vi.stubEnv('UPSTREAM_URL', upstream.url)
    const handler = await coldHandler()

    // Act
    const answer = await handler(event(), context())

    // Assess
    expect(answer.statusCode).toBe(502)
    expect(JSON.parse(answer.body ?? '')).toMatchObject({
      code: 'UPSTREAM_STATUS',
      upstreamStatus: 401,
    })
    const emf = output.find((line) => line.includes('"ServerError"')) ?? ''
    expect(JSON.parse(emf)).toMatchObject({
      service: 'secure-fetch',
      ServerError: 1,
      _aws: { CloudWatchMetrics: [{ Namespace: 'Unit', Dimensions: [['service']] }] },
    })
    expectNoSecrets(output.join(''), [TOKEN])
  })

  it('answers 400 for a bad id before waiting for KMS', async () => {
    // Prepare
    vi.stubEnv('UPSTREAM_URL', 'https://127.0.0.1:9')
    const handler = await coldHandler()

    // Act
    const answer = await handler(event('..'), context())

    // Assess
    expect(answer.statusCode).toBe(400)
    expect(JSON.parse(answer.body ?? '')).toMatchObject({ code: 'BAD_REQUEST' })
    expect(metricNames()).not.toContain('ServerError')
  })

  it('fails at import with a ConfigError naming the bad variables', async () => {
    // Prepare
    vi.stubEnv('UPSTREAM_URL', 'http://127.0.0.1:9')
    vi.stubEnv('RESPONSE_TIMEOUT_MS', '-1')
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
    vi.resetModules()

    // Act
    const outcome = await import('../../../functions/secure-fetch/handler.ts').catch(
      (e: unknown) => e,
    )

    // Assess
    expect(outcome).toMatchObject({ name: 'ConfigError', code: 'CONFIG_INVALID' })
    expect((outcome as Error).message).toContain('UPSTREAM_URL')
    expect((outcome as Error).message).toContain('RESPONSE_TIMEOUT_MS')
  })
})
