// npm run invoke (scripts/invoke.ts), run as users run it: a child process on the real
// template and events, against moto (KMS, DynamoDB) and a local HTTPS upstream; and on small
// fixture templates for the Lambda-context, timeout and init-failure contract.

import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { CreateKeyCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningHttpsServer, startHttpsServer } from '../../scripts/local/https-server.ts'
import { awsEnv, type MotoServer, startMoto } from '../../scripts/local/moto.ts'
import { createTestPki } from '../../scripts/local/tls.ts'
import { createItemsTable } from '../support/aws.ts'
import { REPO_ROOT, type RunNodeResult, runNode } from '../support/child.ts'

const STACK = 'invoke-test'
const TOKEN = `tok-${randomBytes(12).toString('hex')}`
const SECRET = 'pässwörd€ with unicode' // the value in events/secure-items-create.json

let work = ''
let moto: MotoServer
let upstream: RunningHttpsServer
let envFile: string

const invoke = (args: string[], input?: string): Promise<RunNodeResult> =>
  runNode(join(REPO_ROOT, 'scripts/invoke.ts'), {
    args: [...args, '--build-dir', join(work, 'build')],
    env: awsEnv(moto.endpoint),
    input,
    timeoutMs: 90_000,
  })

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'kms-invoke-'))
  moto = await startMoto()
  const env = awsEnv(moto.endpoint)
  const aws = {
    endpoint: moto.endpoint,
    region: env.AWS_REGION,
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID as string,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
    },
  }
  const kms = new KMSClient(aws)
  const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId
  const encrypt = async (plaintext: Uint8Array, fn: string) =>
    Buffer.from(
      (
        await kms.send(
          new EncryptCommand({
            KeyId: keyId,
            Plaintext: plaintext,
            EncryptionContext: { LambdaFunctionName: `${STACK}-${fn}` },
          }),
        )
      ).CiphertextBlob as Uint8Array,
    ).toString('base64')
  await createItemsTable(new DynamoDBClient(aws), `${STACK}-items`)
  const pki = await createTestPki()
  upstream = await startHttpsServer({
    ...pki.server,
    handler: (request) => ({ json: { upstream: true, path: request.path } }),
  })
  const caFile = join(work, 'upstream-ca.pem')
  writeFileSync(caFile, pki.ca.cert)
  envFile = join(work, 'env.json')
  writeFileSync(
    envFile,
    JSON.stringify({
      SecureItemsFunction: { DATA_KEY: await encrypt(randomBytes(32), 'secure-items') },
      SecureFetchFunction: {
        API_TOKEN: await encrypt(Buffer.from(TOKEN), 'secure-fetch'),
        UPSTREAM_URL: `${upstream.url}/v1`,
        UPSTREAM_CA_FILE: caFile,
      },
    }),
  )
}, 90_000)

afterAll(async () => {
  await upstream?.stop()
  await moto?.stop()
  if (work !== '') rmSync(work, { recursive: true, force: true })
})

type ApiResult = { statusCode: number; body: string; headers?: Record<string, string> }

describe('npm run invoke on the sample functions (moto + local HTTPS)', () => {
  it('creates, reads and lists an item with secure-items', async () => {
    // Prepare
    const base = ['--env-vars', envFile, '--stack-name', STACK]
    // Act
    const create = await invoke([
      'SecureItemsFunction',
      '-e',
      'events/secure-items-create.json',
      ...base,
    ])
    const get = await invoke(['SecureItemsFunction', '-e', 'events/secure-items-get.json', ...base])
    const list = await invoke([
      'SecureItemsFunction',
      '-e',
      'events/secure-items-list.json',
      ...base,
    ])
    // Assess
    for (const run of [create, get, list]) {
      expect(run.code, run.stderr).toBe(0)
      expect(run.stderr).toMatch(/^START RequestId: [0-9a-f-]{36} Version: \$LATEST$/m)
      expect(run.stderr).toMatch(/^REPORT RequestId: .*Init Duration: \d+\.\d\d ms$/m)
      expect(run.stderr).not.toContain(SECRET)
    }
    expect((create.json as ApiResult).statusCode).toBe(201)
    const item = JSON.parse((get.json as ApiResult).body)
    expect((get.json as ApiResult).statusCode).toBe(200)
    expect(item).toMatchObject({
      owner: 'alice',
      id: '0f8fad5b-d9cb-469f-a165-70867728950e',
      secret: SECRET,
    })
    const page = JSON.parse((list.json as ApiResult).body)
    expect(page.items.map((i: { id: string }) => i.id)).toEqual([item.id])
    expect(JSON.stringify(page)).not.toContain(SECRET)
  }, 240_000)

  it.each([
    ['events/secure-fetch-get.json', '/v1'],
    ['events/secure-fetch-get-by-id.json', '/v1/status-42'],
  ])(
    'calls the upstream with the decrypted token for %s',
    async (event, path) => {
      // Prepare
      const before = upstream.requests.length
      // Act
      const run = await invoke([
        'SecureFetchFunction',
        '-e',
        event,
        '--env-vars',
        envFile,
        '--stack-name',
        STACK,
      ])
      // Assess
      expect(run.code, run.stderr).toBe(0)
      expect((run.json as ApiResult).statusCode).toBe(200)
      const seen = upstream.requests.slice(before)
      expect(seen.map((r) => r.path)).toEqual([path])
      expect(seen[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`)
      expect(run.stderr).not.toContain(TOKEN)
      expect(run.stdout).not.toContain(TOKEN)
    },
    120_000,
  )
})

describe('npm run invoke: clear errors', () => {
  it('names an env-vars key the template does not declare, and exits 2 without building', async () => {
    // Prepare
    const bad = join(work, 'bad-env.json')
    writeFileSync(bad, JSON.stringify({ SecureItemsFunction: { DATA_KY: 'x' }, SecureItemsFn: {} }))
    // Act
    const run = await invoke([
      'SecureItemsFunction',
      '-e',
      'events/secure-items-get.json',
      '--env-vars',
      bad,
    ])
    // Assess
    expect(run.code).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain(
      'SecureItemsFunction.DATA_KY is not an environment variable of SecureItemsFunction',
    )
    expect(run.stderr).toContain('DATA_KEY')
    expect(run.stderr).toContain('"SecureItemsFn" is not a function of the template')
    expect(run.stderr).not.toMatch(/^Built /m)
  })

  it.each([
    [
      ['NoSuchFunction'],
      /NoSuchFunction is not a function of template\.yaml \(functions: SecureItemsFunction, SecureFetchFunction\)/,
    ],
    [['SecureItemsFunction', '--no-such-flag'], /Unknown option '--no-such-flag'/],
    [['SecureItemsFunction', '-e', 'events/none.json'], /cannot read event .*events\/none\.json/],
    [
      ['SecureItemsFunction', '--parameter-overrides', 'Nope=1'],
      /the template has no parameter Nope/,
    ],
    [
      ['SecureFetchFunction', '-e', 'events/secure-fetch-get.json'],
      /UPSTREAM_URL: parameter UpstreamUrl has no Default/,
    ],
    [
      ['SecureItemsFunction', '-e', 'events/secure-items-create.json', '--env-vars', 'env.json'],
      /^invoke: SecureItemsFunction: DATA_KEY is a placeholder \(env\.json\), not an encrypted value\. Against the local AWS: npm run local-stack, then --env-vars \.local\/env\.json/m,
    ],
  ])('exits 2 with a clear message for %j', async (args, message) => {
    // Prepare / Act
    const run = await invoke(args)
    // Assess
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(message)
  })

  it('prints its help', async () => {
    // Prepare / Act
    const run = await invoke(['--help'])
    // Assess
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^Usage: npm run invoke -- <LogicalId> \[options\]/)
    expect(run.stdout).toContain('--env-vars')
  })
})

describe('npm run invoke: the Lambda contract, on fixture templates', () => {
  let fixture = ''
  beforeAll(() => {
    fixture = mkdtempSync(join(work, 'fixture-'))
    writeFileSync(
      join(fixture, 'template.yaml'),
      `Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting: { Type: String, Default: hello }
  Level: { Type: String, Default: INFO }
Globals:
  Function:
    Runtime: nodejs24.x
    Timeout: 2
    MemorySize: 256
    Environment: { Variables: { FROM_GLOBALS: !Sub "\${AWS::StackName}-g" } }
Resources:
  Echo:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: esbuild
      BuildProperties: { Format: esm, Target: node24, Outbase: ".", OutExtension: [.js=.mjs], EntryPoints: [fns/echo.ts] }
    Properties:
      FunctionName: !Sub \${AWS::StackName}-echo
      Handler: fns/echo.handler
      CodeUri: .
      LoggingConfig: { LogFormat: JSON, ApplicationLogLevel: !Ref Level }
      Environment: { Variables: { GREETING: !Ref Greeting, OPTIONAL: !Ref AWS::NoValue } }
  Slow:
    Type: AWS::Serverless::Function
    Metadata: { BuildMethod: esbuild, BuildProperties: { Format: esm, EntryPoints: [fns/slow.ts] } }
    Properties: { Handler: slow.handler, CodeUri: ., Timeout: 1 }
  Broken:
    Type: AWS::Serverless::Function
    Metadata: { BuildMethod: esbuild, BuildProperties: { Format: esm, Minify: true, KeepNames: true, EntryPoints: [fns/broken.ts] } }
    Properties: { Handler: broken.handler, CodeUri: ., LoggingConfig: { LogFormat: JSON } }
`,
    )
    const fns = join(fixture, 'fns')
    mkdirSync(fns)
    for (const [name, code] of Object.entries({
      'echo.ts': `export const handler = async (event: unknown, context: any) => {
    console.log('log line from echo') // goes to stderr, never into the result
    const remaining = context.getRemainingTimeInMillis()
    return { event, functionName: context.functionName, memory: context.memoryLimitInMB,
      arn: context.invokedFunctionArn, requestId: context.awsRequestId, remaining,
      env: { GREETING: process.env.GREETING, FROM_GLOBALS: process.env.FROM_GLOBALS,
        OPTIONAL: process.env.OPTIONAL ?? null, NAME: process.env.AWS_LAMBDA_FUNCTION_NAME,
        TASK_ROOT: process.env.LAMBDA_TASK_ROOT, REGION: process.env.AWS_REGION,
        HANDLER: process.env._HANDLER, LOG_FORMAT: process.env.AWS_LAMBDA_LOG_FORMAT,
        LOG_LEVEL: process.env.AWS_LAMBDA_LOG_LEVEL, TRACE: process.env._X_AMZN_TRACE_ID } }
  }`,
      'slow.ts': 'export const handler = () => new Promise(() => setInterval(() => {}, 1000))',
      'broken.ts': `class ConfigError extends Error { name = 'ConfigError' }
  throw new ConfigError('TABLE_NAME is not set')
  export const handler = async () => 'never'`,
    })) {
      writeFileSync(join(fns, name), code)
    }
  })
  const run = (args: string[], input?: string) =>
    invoke(
      [
        ...args,
        '-t',
        join(fixture, 'template.yaml'),
        '--stack-name',
        'fx',
        '--region',
        'eu-west-3',
      ],
      input,
    )

  it('passes the event, a real context, the resolved environment; logs stay on stderr', async () => {
    // Prepare
    const event = join(fixture, 'event.json')
    writeFileSync(event, JSON.stringify({ hello: 'wörld' }))
    // Act
    const result = await run(['Echo', '-e', event, '--parameter-overrides', 'Greeting=bonjour'])
    // Assess
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toContain('log line from echo')
    expect(result.stdout.trim().split('\n')).toHaveLength(1)
    const out = result.json as Record<string, unknown>
    expect(out).toMatchObject({
      event: { hello: 'wörld' },
      functionName: 'fx-echo',
      memory: '256',
      arn: 'arn:aws:lambda:eu-west-3:123456789012:function:fx-echo',
      env: {
        GREETING: 'bonjour',
        FROM_GLOBALS: 'fx-g',
        OPTIONAL: null,
        NAME: 'fx-echo',
        TASK_ROOT: join(work, 'build', 'Echo'),
        REGION: 'eu-west-3',
      },
    })
    expect(out.requestId).toMatch(/^[0-9a-f-]{36}$/)
    // Lambda's runtime client made this call (it writes JSON log lines when LogFormat is JSON).
    expect(result.stderr).toMatch(
      /^\{"timestamp":"[^"]+","level":"INFO","requestId":"[0-9a-f-]{36}","message":"log line from echo"\}$/m,
    )
    expect(out.remaining).toBeGreaterThan(1000)
    expect(out.remaining).toBeLessThanOrEqual(2000)
  }, 60_000)

  it('reads the event from stdin with -e -', async () => {
    // Prepare / Act
    const result = await run(['Echo', '-e', '-'], JSON.stringify({ from: 'stdin' }))
    // Assess
    expect(result.code, result.stderr).toBe(0)
    expect(result.json).toMatchObject({ event: { from: 'stdin' } })
  }, 60_000)

  it("sets the runtime's variables: _HANDLER, LoggingConfig's format and level, a trace id per invocation", async () => {
    // Prepare
    const event = join(fixture, 'event.json')
    writeFileSync(event, '{}')
    // Act
    const result = await run([
      'Echo',
      '-e',
      event,
      '-e',
      event,
      '--parameter-overrides',
      'Level=ERROR',
    ])
    // Assess
    expect(result.code, result.stderr).toBe(0)
    const [first, second] = result.stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { env: Record<string, string> }).env)
    expect(first).toMatchObject({
      HANDLER: 'fns/echo.handler',
      LOG_FORMAT: 'JSON',
      LOG_LEVEL: 'ERROR',
    })
    const traceId = /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$/
    expect(first?.TRACE).toMatch(traceId)
    expect(second?.TRACE).toMatch(traceId)
    expect(second?.TRACE).not.toBe(first?.TRACE)
    // At level ERROR the runtime drops the function's console.log (INFO), as Lambda does.
    expect(result.stderr).not.toContain('log line from echo')
  }, 60_000)

  it('--sam-local names the function by its logical id, as sam local invoke does', async () => {
    // Prepare / Act
    const result = await run(['Echo', '--sam-local'])
    // Assess
    expect(result.code, result.stderr).toBe(0)
    expect(result.json).toMatchObject({
      functionName: 'Echo',
      arn: 'arn:aws:lambda:eu-west-3:123456789012:function:Echo',
      env: { NAME: 'Echo' },
    })
  }, 60_000)

  it('--skip-build runs a sam build output with its Handler, and refuses one the runtime cannot load', async () => {
    // Prepare: what sam build writes: CodeUri = the function's folder, the bundle at its root.
    const built = join(fixture, 'sam-build')
    mkdirSync(join(built, 'Echo'), { recursive: true })
    mkdirSync(join(built, 'Moved', 'fns'), { recursive: true })
    const bundle = "export const handler = async () => ({ from: 'sam build' })\n"
    writeFileSync(join(built, 'Echo', 'handler.mjs'), bundle)
    writeFileSync(join(built, 'Moved', 'fns', 'handler.mjs'), bundle)
    writeFileSync(
      join(built, 'template.yaml'),
      `Resources:
  Echo:
    Type: AWS::Serverless::Function
    Properties: { Handler: handler.handler, CodeUri: Echo, Runtime: nodejs24.x }
  Moved:
    Type: AWS::Serverless::Function
    Properties: { Handler: handler.handler, CodeUri: Moved, Runtime: nodejs24.x }
`,
    )
    const skipBuild = (id: string) =>
      runNode(join(REPO_ROOT, 'scripts/invoke.ts'), {
        args: [id, '-t', join(built, 'template.yaml'), '--build-dir', built, '--skip-build'],
        timeoutMs: 60_000,
      })
    // Act
    const ok = await skipBuild('Echo')
    const moved = await skipBuild('Moved')
    // Assess
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout.trim()).toBe('{"from":"sam build"}')
    expect(moved.code).toBe(2)
    expect(moved.stderr).toContain('holds no module for Handler handler.handler')
  }, 60_000)

  it("stops a handler at the template's Timeout with Lambda's error, exit 1", async () => {
    // Prepare / Act
    const result = await run(['Slow'])
    // Assess
    expect(result.code).toBe(1)
    expect(result.json).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: 'Task timed out after 1.00 seconds',
    })
  }, 60_000)

  it('reports an initialisation failure with its error name, exit 1', async () => {
    // Prepare / Act
    const result = await run(['Broken'])
    // Assess
    expect(result.code).toBe(1)
    expect(result.json).toMatchObject({
      errorType: 'ConfigError',
      errorMessage: 'TABLE_NAME is not set',
    })
    // The runtime's own log line names the class (minified without KeepNames: "errorType":"s").
    expect(result.stderr).toMatch(
      /^\{"timestamp":"[^"]+","level":"ERROR","requestId":"-","message":\{"errorType":"ConfigError","errorMessage":"TABLE_NAME is not set"/m,
    )
  }, 60_000)
})
