// secure-items against real local AWS: the handler bundle built exactly as `sam build`
// builds it (template.yaml's BuildProperties), run in fresh Node processes (one process =
// one cold start), talking to the shared moto (KMS + DynamoDB) through a fault proxy that
// counts the calls. A plain DynamoDB client inspects and tampers with what is stored.
// Every child's stdout/stderr is checked: no item secret, no data key, in any form.

import { randomBytes, randomUUID } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import {
  type AttributeValue,
  GetItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import { CreateKeyCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type FaultProxy, startFaultProxy } from '../../scripts/local/fault-proxy.ts'
import { awsEnv } from '../../scripts/local/moto.ts'
import { buildFunction, functionsOf, readTemplate } from '../../scripts/template.ts'
import { awsCliEncrypt, createItemsTable, dynamoClient, kmsClient } from '../support/aws.ts'
import { REPO_ROOT, runNode, TMP_DIR } from '../support/child.ts'
import { expectNoSecrets, type Secret } from '../support/no-leak.ts'

const motoEndpoint = inject('motoEndpoint')
const RUN = randomUUID().slice(0, 8)
const FUNCTION_NAME = `it-${RUN}-secure-items`
const TABLE = `it-${RUN}-items`
const WORK_DIR = join(TMP_DIR, `secure-items-${RUN}`)

let proxy: FaultProxy
let handlerFile: string
let keyId: string
/** base64 CiphertextBlob of the data key (KMS GenerateDataKey, 32 bytes, function context). */
let dataKeyBlob: string
/** Every plaintext that must never show up in a child's output. */
const secrets: Secret[] = []

const dynamo = () => dynamoClient(motoEndpoint)
const newSecret = (label: string) => {
  const secret = `${label}-pässwörd€-${randomBytes(12).toString('hex')}`
  secrets.push(secret)
  return secret
}

// ----------------------------------------------------------------------------- events

const apiEvent = (routeKey: string, path: string, fields: Record<string, unknown> = {}) => ({
  version: '2.0',
  routeKey,
  rawPath: path,
  rawQueryString: '',
  headers: { 'content-type': 'application/json', host: 'api.example' },
  requestContext: {
    accountId: '123456789012',
    apiId: 'api',
    domainName: 'api.example',
    domainPrefix: 'api',
    http: {
      method: routeKey.split(' ')[0],
      path,
      protocol: 'HTTP/1.1',
      sourceIp: '127.0.0.1',
      userAgent: 'integration-test',
    },
    requestId: randomUUID(),
    routeKey,
    stage: '$default',
    time: '28/Nov/2025:12:00:00 +0000',
    timeEpoch: 1764331200000,
  },
  isBase64Encoded: false,
  ...fields,
})
const createEvent = (body: unknown) =>
  apiEvent('POST /items', '/items', {
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
const getEvent = (owner: string, id: string) =>
  apiEvent('GET /items/{owner}/{id}', `/items/${owner}/${id}`, { pathParameters: { owner, id } })
const listEvent = (owner: string, query?: Record<string, string>) =>
  apiEvent('GET /items/{owner}', `/items/${owner}`, {
    pathParameters: { owner },
    ...(query ? { queryStringParameters: query } : {}),
  })

// ----------------------------------------------------------------------------- cold starts

interface Answer {
  statusCode: number
  headers: Record<string, string>
  json: Record<string, unknown>
}

interface ColdStart {
  answers: Answer[]
  /** stdout + stderr of the process: logs and EMF metrics. */
  output: string
  code: number | null
}

// The runner is the Lambda runtime's part: import the handler module once (INIT), then
// invoke it once per event (read from stdin: events carry secrets, argv/env would not do),
// answers to a file, so that stdout/stderr hold only what the function itself writes.
const RUNNER = (handler: string, resultFile: string) => `
import { writeFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const events = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const { handler } = await import(${JSON.stringify(handler)})
const answers = []
for (const event of events) {
  const context = {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:' + process.env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/' + process.env.AWS_LAMBDA_FUNCTION_NAME,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 10000,
  }
  answers.push(await handler(event, context))
}
writeFileSync(${JSON.stringify(resultFile)}, JSON.stringify(answers))
`

/** One cold start of the built function, invoked with `events` in turn. */
const coldStart = async (
  events: unknown[],
  options: { dataKey?: string; env?: Record<string, string> } = {},
): Promise<ColdStart> => {
  const resultFile = join(WORK_DIR, `answers-${randomUUID()}.json`)
  const run = await runNode(RUNNER(handlerFile, resultFile), {
    input: JSON.stringify(events),
    timeoutMs: 30_000,
    env: {
      ...awsEnv(proxy.endpoint),
      // What Lambda and template.yaml set.
      AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      NODE_OPTIONS: '--enable-source-maps',
      TABLE_NAME: TABLE,
      DATA_KEY: options.dataKey ?? dataKeyBlob,
      POWERTOOLS_SERVICE_NAME: 'secure-items',
      POWERTOOLS_METRICS_NAMESPACE: 'MiddyKmsSecrets',
      LOG_LEVEL: 'INFO',
      ...options.env,
    },
  })
  const output = run.stdout + run.stderr
  // The leak check covers every cold start, whatever the test asserts afterwards.
  expectNoSecrets(output, secrets)
  let answers: Answer[] = []
  try {
    const raw = JSON.parse(readFileSync(resultFile, 'utf8')) as Array<
      Omit<Answer, 'json'> & { body: string }
    >
    answers = raw.map(({ statusCode, headers, body }) => ({
      statusCode,
      headers,
      json: JSON.parse(body) as Record<string, unknown>,
    }))
    rmSync(resultFile)
  } catch {
    throw new Error(`the function process failed (code ${run.code}):\n${output.slice(-3000)}`)
  }
  return { answers, output, code: run.code }
}

const answerOf = (run: ColdStart, index = 0): Answer => {
  const answer = run.answers[index]
  if (!answer) throw new Error(`no answer #${index}`)
  return answer
}

const metricsOf = (output: string) => {
  const names: string[] = []
  for (const line of output.split('\n')) {
    if (!line.includes('"_aws"')) continue
    const document = JSON.parse(line) as {
      _aws: { CloudWatchMetrics: Array<{ Namespace: string; Metrics: Array<{ Name: string }> }> }
    }
    for (const directive of document._aws.CloudWatchMetrics) {
      for (const metric of directive.Metrics) names.push(`${directive.Namespace}/${metric.Name}`)
    }
  }
  return names
}

// ----------------------------------------------------------------------------- table

const itemCount = async () => {
  const answer = await dynamo().send(new ScanCommand({ TableName: TABLE, Select: 'COUNT' }))
  return answer.Count ?? 0
}

const storedItem = async (owner: string, id: string) => {
  const answer = await dynamo().send(
    new GetItemCommand({ TableName: TABLE, Key: { owner: { S: owner }, id: { S: id } } }),
  )
  return answer.Item
}

const setStoredSecret = async (owner: string, id: string, value: AttributeValue) => {
  await dynamo().send(
    new UpdateItemCommand({
      TableName: TABLE,
      Key: { owner: { S: owner }, id: { S: id } },
      UpdateExpression: 'SET #secret = :value',
      ExpressionAttributeNames: { '#secret': 'secret' },
      ExpressionAttributeValues: { ':value': value },
    }),
  )
}

// ----------------------------------------------------------------------------- setup

beforeAll(async () => {
  mkdirSync(WORK_DIR, { recursive: true })
  proxy = await startFaultProxy({ target: motoEndpoint })

  // The bundle, as sam build makes it from the template's Metadata.
  const fn = functionsOf(readTemplate(join(REPO_ROOT, 'template.yaml'))).find(
    (candidate) => candidate.logicalId === 'SecureItemsFunction',
  )
  if (!fn) throw new Error('template.yaml has no SecureItemsFunction')
  const built = await buildFunction(fn, join(REPO_ROOT, fn.codeUri), join(WORK_DIR, 'build'))
  handlerFile = built.handlerFile

  // The key, and the data key encrypted for this function (what the deployer does).
  const kms = kmsClient(motoEndpoint)
  const key = await kms.send(new CreateKeyCommand({ Description: 'secure-items integration' }))
  keyId = key.KeyMetadata?.KeyId as string
  const dataKey = await kms.send(
    new GenerateDataKeyCommand({
      KeyId: keyId,
      NumberOfBytes: 32,
      EncryptionContext: { LambdaFunctionName: FUNCTION_NAME },
    }),
  )
  secrets.push(Uint8Array.from(dataKey.Plaintext as Uint8Array))
  dataKeyBlob = Buffer.from(dataKey.CiphertextBlob as Uint8Array).toString('base64')

  await createItemsTable(dynamo(), TABLE)
})

afterAll(async () => {
  await proxy?.stop()
  rmSync(WORK_DIR, { recursive: true, force: true })
})

// ----------------------------------------------------------------------------- tests

describe('secure-items on moto (built bundle, fresh Node per cold start)', () => {
  it('round trip: create then get returns the secret; one KMS Decrypt per cold start', async () => {
    // Prepare
    const secret = newSecret('round-trip')
    proxy.resetCounts()

    // Act
    const run = await coldStart([
      createEvent({ owner: 'alice', name: 'db-password', secret }),
      // the id is only known after the first answer: a second cold start reads it
    ])
    const created = answerOf(run)
    const id = String(created.json.id)
    const readRun = await coldStart([getEvent('alice', id), getEvent('alice', id)])

    // Assess
    expect(run.code).toBe(0)
    expect(created.statusCode).toBe(201)
    expect(created.json).toEqual({ owner: 'alice', id, name: 'db-password' })
    expect(readRun.answers.map((answer) => answer.statusCode)).toEqual([200, 200])
    expect(answerOf(readRun).json).toMatchObject({
      owner: 'alice',
      id,
      name: 'db-password',
      secret,
    })
    expect(answerOf(readRun).headers['cache-control']).toBe('no-store')
    const counts = proxy.counts()
    expect(counts['TrentService.Decrypt']).toBe(2) // two cold starts, three invocations
    expect(counts['DynamoDB_20120810.PutItem']).toBe(1)
    expect(counts['DynamoDB_20120810.GetItem']).toBe(2)
    expect(metricsOf(run.output)).toEqual(
      expect.arrayContaining([
        'MiddyKmsSecrets/ColdStart',
        'MiddyKmsSecrets/DataKeyDecryptLatency',
        'MiddyKmsSecrets/ItemCreated',
      ]),
    )
    expect(metricsOf(readRun.output).filter((name) => name.endsWith('/ItemRead'))).toHaveLength(2)
    expect(
      metricsOf(readRun.output).filter((name) => name.endsWith('/DataKeyDecryptLatency')),
    ).toHaveLength(1)
  })

  it('stores only ciphertext: a plain DynamoDB client sees the v1 sealed value', async () => {
    // Prepare
    const secret = newSecret('at-rest')

    // Act
    const run = await coldStart([createEvent({ owner: 'bob', id: 'at-rest', name: 'n', secret })])
    const item = await storedItem('bob', 'at-rest')

    // Assess
    expect(answerOf(run).statusCode).toBe(201)
    expect(Object.keys(item ?? {}).sort()).toEqual(['createdAt', 'id', 'name', 'owner', 'secret'])
    expect(item?.secret?.S).toMatch(/^v1\.[\w-]{8}\.[\w-]{16}\.[\w-]+$/)
    expectNoSecrets(JSON.stringify(item), secrets)
  })

  it('refuses a second create of the same key with 409 and keeps the first item', async () => {
    // Prepare
    const first = newSecret('first')
    const second = newSecret('second')
    const body = { owner: 'carol', id: 'same-key', name: 'first' }

    // Act
    const run = await coldStart([
      createEvent({ ...body, secret: first }),
      createEvent({ ...body, name: 'second', secret: second }),
      getEvent('carol', 'same-key'),
    ])

    // Assess
    expect(run.answers.map((answer) => answer.statusCode)).toEqual([201, 409, 200])
    expect(answerOf(run, 1).json).toEqual({
      code: 'ITEM_EXISTS',
      message: 'an item with this owner and id already exists',
    })
    expect(answerOf(run, 2).json).toMatchObject({ name: 'first', secret: first })
    expect((await storedItem('carol', 'same-key'))?.name?.S).toBe('first')
  })

  it('answers malformed events with 400 and writes nothing', async () => {
    // Prepare
    const secret = newSecret('malformed')
    const countBefore = await itemCount()
    proxy.resetCounts()

    // Act
    const run = await coldStart([
      createEvent(`{"owner":"dave","name":"n","secret":"${secret}"`), // bad JSON
      createEvent({ name: 'n', secret }), // missing owner
      createEvent({ owner: 'dave', name: 'n', secret: `${secret}${'x'.repeat(5000)}` }), // oversized
      createEvent({ owner: 'dave', id: '../../etc', name: 'n', secret }), // bad id
      getEvent('dave/../eve', 'x'), // bad path
      apiEvent('DELETE /items/{owner}/{id}', '/items/dave/x'), // no such route
    ])

    // Assess
    expect(run.answers.map((answer) => answer.statusCode)).toEqual([400, 400, 400, 400, 400, 400])
    expect(run.answers.map((answer) => answer.json.details)).toEqual([
      [{ path: 'body', message: 'body is not valid JSON' }],
      [{ path: 'body.owner', message: 'owner must be a string' }],
      [{ path: 'body.secret', message: 'secret must be at most 4096 bytes (UTF-8)' }],
      [{ path: 'body.id', message: 'id must be 1-64 characters of A-Z a-z 0-9 _ -' }],
      [
        {
          path: 'pathParameters.owner',
          message: 'owner must be 1-128 characters of A-Z a-z 0-9 . _ @ + -',
        },
      ],
      [{ path: 'routeKey', message: 'unsupported route' }],
    ])
    expect(await itemCount()).toBe(countBefore)
    expect(proxy.counts()['DynamoDB_20120810.PutItem']).toBeUndefined()
  })

  it('detects tampering: an altered ciphertext, or one moved from another item -> 500', async () => {
    // Prepare
    const one = newSecret('tamper-one')
    const two = newSecret('tamper-two')
    await coldStart([
      createEvent({ owner: 'erin', id: 'one', name: 'one', secret: one }),
      createEvent({ owner: 'erin', id: 'two', name: 'two', secret: two }),
      createEvent({ owner: 'erin', id: 'three', name: 'three', secret: one }),
    ])
    const sealedOne = String((await storedItem('erin', 'one'))?.secret?.S)
    const sealedTwo = String((await storedItem('erin', 'two'))?.secret?.S)
    const at = sealedOne.length - 30
    const altered = `${sealedOne.slice(0, at)}${sealedOne[at] === 'A' ? 'B' : 'A'}${sealedOne.slice(at + 1)}`
    await setStoredSecret('erin', 'one', { S: altered })
    await setStoredSecret('erin', 'three', { S: sealedTwo })

    // Act
    const run = await coldStart([
      getEvent('erin', 'one'),
      getEvent('erin', 'three'),
      getEvent('erin', 'two'),
    ])

    // Assess
    expect(run.answers.map((answer) => answer.statusCode)).toEqual([500, 500, 200])
    for (const index of [0, 1]) {
      expect(answerOf(run, index).json).toEqual({
        code: 'ITEM_INTEGRITY',
        message: 'the stored item failed its integrity check',
      })
    }
    expect(answerOf(run, 2).json.secret).toBe(two)
    const logged = run.output
      .split('\n')
      .filter((line) => line.includes('"ITEM_INTEGRITY"') && !line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(logged).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        owner: 'erin',
        id: 'one',
        reason: 'authentication',
      }),
      expect.objectContaining({
        level: 'ERROR',
        owner: 'erin',
        id: 'three',
        reason: 'authentication',
      }),
    ])
    expect(
      metricsOf(run.output).filter((name) => name.endsWith('/ItemIntegrityFailure')),
    ).toHaveLength(2)
    expect(metricsOf(run.output).filter((name) => name.endsWith('/ServerError'))).toHaveLength(2)
    // Neither the sealed values nor their ciphertext parts are logged.
    expectNoSecrets(run.output, [
      altered.split('.')[3] as string,
      sealedTwo.split('.')[3] as string,
    ])
  })

  it('lists by owner: ids and names only, paged with limit and cursor', async () => {
    // Prepare
    const secret = newSecret('list')
    await coldStart([
      ...['i1', 'i2', 'i3'].map((id) =>
        createEvent({ owner: 'frank', id, name: `name-${id}`, secret }),
      ),
      createEvent({ owner: 'grace', id: 'i0', name: 'not frank', secret }),
    ])

    // Act
    const first = await coldStart([listEvent('frank', { limit: '2' })])
    const next = String(answerOf(first).json.next)
    const rest = await coldStart([
      listEvent('frank', { limit: '2', cursor: next }),
      listEvent('nobody'),
    ])

    // Assess
    expect(answerOf(first).statusCode).toBe(200)
    expect(answerOf(first).json.items).toEqual([
      { id: 'i1', name: 'name-i1', createdAt: expect.any(String) },
      { id: 'i2', name: 'name-i2', createdAt: expect.any(String) },
    ])
    expect(answerOf(rest).json).toEqual({
      owner: 'frank',
      items: [{ id: 'i3', name: 'name-i3', createdAt: expect.any(String) }],
    })
    expect(answerOf(rest, 1).json).toEqual({ owner: 'nobody', items: [] })
    expect(JSON.stringify([first.answers, rest.answers])).not.toMatch(/v1\.|secret/)
  })

  it('works with a data key encrypted by the AWS CLI (aws kms encrypt, LambdaFunctionName context)', async () => {
    // Prepare
    const keyBytes = randomBytes(32)
    secrets.push(Uint8Array.from(keyBytes))
    const blob = await awsCliEncrypt({
      endpoint: motoEndpoint,
      keyId,
      plaintext: keyBytes,
      functionName: FUNCTION_NAME,
    })
    const secret = newSecret('cli')

    // Act
    const run = await coldStart(
      [createEvent({ owner: 'heidi', id: 'cli', name: 'n', secret }), getEvent('heidi', 'cli')],
      { dataKey: blob },
    )

    // Assess
    expect(blob).toMatch(/^[A-Za-z0-9+/]+=*$/)
    expect(run.answers.map((answer) => answer.statusCode)).toEqual([201, 200])
    expect(answerOf(run, 1).json.secret).toBe(secret)
  })

  it('a data key encrypted for another function name is refused (500), nothing written', async () => {
    // Prepare
    const other = await kmsClient(motoEndpoint).send(
      new GenerateDataKeyCommand({
        KeyId: keyId,
        NumberOfBytes: 32,
        EncryptionContext: { LambdaFunctionName: 'some-other-function' },
      }),
    )
    secrets.push(Uint8Array.from(other.Plaintext as Uint8Array))
    const secret = newSecret('wrong-context')
    const countBefore = await itemCount()

    // Act
    const run = await coldStart([createEvent({ owner: 'ivan', name: 'n', secret })], {
      dataKey: Buffer.from(other.CiphertextBlob as Uint8Array).toString('base64'),
    })

    // Assess
    expect(answerOf(run).statusCode).toBe(500)
    expect(answerOf(run).json).toEqual({ code: 'INTERNAL', message: 'internal error' })
    expect(await itemCount()).toBe(countBefore)
    expect(run.output).toContain('"variable":"DATA_KEY"')
    // A broken deploy answers handled 500s: the canary's ServerError alarm sees them.
    expect(metricsOf(run.output)).toContain('MiddyKmsSecrets/ServerError')
  })
})
