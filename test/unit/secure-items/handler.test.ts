// The secure-items handler end to end in-process: Middy chain, Powertools Parser,
// kmsSecrets (the built package), routes and error mapping, with the KMS double of
// ../fake-kms.ts and an in-memory table behind the DynamoDB DocumentClient.

import { randomBytes, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import {
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb'
import { DecryptCommand } from '@aws-sdk/client-kms'
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb'
import type { Context } from 'aws-lambda'
import { mockClient } from 'aws-sdk-client-mock'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { REPO_ROOT } from '../../support/child.ts'
import { expectNoSecrets } from '../../support/no-leak.ts'
import { fakeKmsEachTest, KEY_ARN } from '../fake-kms.ts'

const FUNCTION_NAME = 'stack-secure-items'
const TABLE = 'stack-items'
const DATA_KEY = Uint8Array.from(randomBytes(32))
const SECRET = `pässwörd€-${randomUUID()}`

const fake = fakeKmsEachTest()
const ddb = mockClient(DynamoDBDocumentClient)
type Row = Record<string, unknown>
let table: Map<string, Row>
let output: string[]
let dataKeyBlob: string

const keyOf = (owner: unknown, id: unknown) => JSON.stringify([owner, id])

/** A DocumentClient-level table: conditional puts, consistent gets, paged queries. */
const fakeTable = () => {
  table = new Map()
  ddb.on(PutCommand).callsFake(async (input: PutCommand['input']) => {
    const item = input.Item as Row
    if (table.has(keyOf(item.owner, item.id)) && input.ConditionExpression) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: { httpStatusCode: 400, requestId: 'req-put' },
      })
    }
    table.set(keyOf(item.owner, item.id), structuredClone(item))
    return {}
  })
  ddb.on(GetCommand).callsFake(async (input: GetCommand['input']) => {
    const item = table.get(keyOf(input.Key?.owner, input.Key?.id))
    return item ? { Item: structuredClone(item) } : {}
  })
  ddb.on(QueryCommand).callsFake(async (input: QueryCommand['input']) => {
    const owner = input.ExpressionAttributeValues?.[':owner']
    const after = input.ExclusiveStartKey?.id as string | undefined
    const names = input.ExpressionAttributeNames ?? {}
    const projected = (input.ProjectionExpression ?? '')
      .split(',')
      .map((name) => names[name.trim()] ?? name.trim())
    const all = [...table.values()]
      .filter((item) => item.owner === owner && (after === undefined || String(item.id) > after))
      .sort((a, b) => String(a.id).localeCompare(String(b.id)))
    const page = all.slice(0, input.Limit ?? all.length)
    const items = page.map((item) =>
      Object.fromEntries(
        projected.filter((name) => name in item).map((name) => [name, item[name]]),
      ),
    )
    const last = page.at(-1)
    return all.length > page.length && last
      ? { Items: items, LastEvaluatedKey: { owner, id: last.id } }
      : { Items: items }
  })
}

/** The data key sealed by the KMS double under the function's encryption context. */
const sealDataKey = (plaintext: Uint8Array = DATA_KEY) =>
  fake.encrypt('data-key', plaintext, { LambdaFunctionName: FUNCTION_NAME })

const context = (): Context => ({
  functionName: FUNCTION_NAME,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${FUNCTION_NAME}`,
  memoryLimitInMB: '512',
  awsRequestId: randomUUID(),
  logGroupName: `/aws/lambda/${FUNCTION_NAME}`,
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 10_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
})

const event = (routeKey: string, fields: Record<string, unknown> = {}) => ({
  version: '2.0',
  routeKey,
  rawPath: '/items',
  rawQueryString: '',
  headers: { 'content-type': 'application/json' },
  requestContext: {
    accountId: '123456789012',
    apiId: 'api',
    domainName: 'api.execute-api.us-east-1.amazonaws.com',
    domainPrefix: 'api',
    http: {
      method: routeKey.split(' ')[0],
      path: '/items',
      protocol: 'HTTP/1.1',
      sourceIp: '198.51.100.7',
      userAgent: 'test',
    },
    requestId: randomUUID(),
    routeKey,
    stage: '$default',
    time: '28/Nov/2025:12:36:10 +0000',
    timeEpoch: 1764333370000,
  },
  isBase64Encoded: false,
  ...fields,
})
const createEvent = (body: unknown) =>
  event('POST /items', { body: typeof body === 'string' ? body : JSON.stringify(body) })
const getEvent = (owner: string, id: string) =>
  event('GET /items/{owner}/{id}', { pathParameters: { owner, id } })
const listEvent = (owner: string, query?: Record<string, string>) =>
  event('GET /items/{owner}', {
    pathParameters: { owner },
    ...(query ? { queryStringParameters: query } : {}),
  })

interface Answer {
  statusCode: number
  headers: Record<string, string>
  body: string
}
type Handler = (event: unknown, context: Context) => Promise<Answer>

/** A fresh module graph: one cold start of the function (prefetch at import). */
const coldStart = async (env: Record<string, string> = {}): Promise<Handler> => {
  vi.unstubAllEnvs() // each cold start sees only its own environment
  vi.stubEnv('TABLE_NAME', TABLE)
  vi.stubEnv('DATA_KEY', dataKeyBlob)
  vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', FUNCTION_NAME)
  vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'Test')
  vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'secure-items')
  // Lambda sets it; Powertools reports a cold start only with it.
  vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand')
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value)
  vi.resetModules()
  const module = await import('../../../functions/secure-items/handler.ts')
  return module.handler as unknown as Handler
}

const invoke = async (handler: Handler, anEvent: unknown) => {
  const answer = await handler(anEvent, context())
  return { ...answer, json: JSON.parse(answer.body) as Record<string, unknown> }
}

/** EMF documents written to stdout: metric name -> values. */
const emittedMetrics = () => {
  const metrics: Record<string, unknown[]> = {}
  for (const line of output.join('').split('\n')) {
    if (!line.includes('"_aws"')) continue
    const document = JSON.parse(line) as Record<string, unknown> & {
      _aws: { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> }
    }
    for (const { Name } of document._aws.CloudWatchMetrics[0]?.Metrics ?? []) {
      metrics[Name] = [...(metrics[Name] ?? []), document[Name]]
    }
  }
  return metrics
}

const logLines = () =>
  output
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{') && !line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)

beforeEach(() => {
  ddb.reset()
  fakeTable()
  dataKeyBlob = sealDataKey()
  output = []
  const capture = (chunk: unknown) => {
    output.push(String(chunk))
    return true
  }
  vi.spyOn(process.stdout, 'write').mockImplementation(capture)
  vi.spyOn(process.stderr, 'write').mockImplementation(capture)
})

afterEach(() => {
  vi.restoreAllMocks()
  vi.unstubAllEnvs()
  // Whatever a test did, nothing it logged may hold the item secret or the data key.
  expectNoSecrets(output.join(''), [SECRET, DATA_KEY])
})

describe('secure-items: create and read', () => {
  it('creates an item (201), storing only the sealed secret, and reads it back (200)', async () => {
    // Prepare
    const handler = await coldStart()

    // Act
    const created = await invoke(
      handler,
      createEvent({ owner: 'alice', name: 'db', secret: SECRET }),
    )
    const id = String(created.json.id)
    const read = await invoke(handler, getEvent('alice', id))

    // Assess
    expect(created.statusCode).toBe(201)
    expect(created.json).toEqual({ owner: 'alice', id, name: 'db' })
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(created.headers.location).toBe(`/items/alice/${id}`)
    expect(created.headers['cache-control']).toBe('no-store')
    const put = ddb.commandCalls(PutCommand)[0]?.args[0].input
    expect(put?.TableName).toBe(TABLE)
    expect(put?.ConditionExpression).toBe(
      'attribute_not_exists(#owner) AND attribute_not_exists(#id)',
    )
    expect(put?.ExpressionAttributeNames).toEqual({ '#owner': 'owner', '#id': 'id' })
    const stored = table.get(keyOf('alice', id)) as Row
    expect(Object.keys(stored).sort()).toEqual(['createdAt', 'id', 'name', 'owner', 'secret'])
    expect(String(stored.secret)).toMatch(/^v1\.[\w-]{8}\.[\w-]{16}\.[\w-]+$/)
    expectNoSecrets(JSON.stringify(stored), [SECRET, DATA_KEY])
    expect(read.statusCode).toBe(200)
    expect(read.json).toEqual({
      owner: 'alice',
      id,
      name: 'db',
      secret: SECRET,
      createdAt: stored.createdAt,
    })
    expect(read.headers['cache-control']).toBe('no-store')
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toMatchObject({
      TableName: TABLE,
      Key: { owner: 'alice', id },
      ConsistentRead: true,
    })
  })

  it('decrypts the data key once per cold start, with the LambdaFunctionName context', async () => {
    // Prepare
    const handler = await coldStart()

    // Act
    for (let i = 0; i < 3; i++) {
      await invoke(handler, createEvent({ owner: 'bob', name: `n${i}`, secret: SECRET }))
    }

    // Assess
    const decrypts = fake.kms.commandCalls(DecryptCommand)
    expect(decrypts).toHaveLength(1)
    expect(decrypts[0]?.args[0].input.EncryptionContext).toEqual({
      LambdaFunctionName: FUNCTION_NAME,
    })
    expect(table.size).toBe(3)
  })

  it('accepts a client-chosen id, and refuses a second create of the same key (409)', async () => {
    // Prepare
    const handler = await coldStart()
    const body = { owner: 'alice', id: 'fixed-id_1', name: 'first', secret: SECRET }
    const first = await invoke(handler, createEvent(body))
    const before = structuredClone(table.get(keyOf('alice', 'fixed-id_1')))

    // Act
    const second = await invoke(handler, createEvent({ ...body, name: 'second', secret: 'other' }))

    // Assess
    expect(first.statusCode).toBe(201)
    expect(first.json.id).toBe('fixed-id_1')
    expect(second.statusCode).toBe(409)
    expect(second.json).toEqual({
      code: 'ITEM_EXISTS',
      message: 'an item with this owner and id already exists',
    })
    expect(table.get(keyOf('alice', 'fixed-id_1'))).toEqual(before)
    expect(emittedMetrics().Error_ITEM_EXISTS).toEqual([1])
    expect(emittedMetrics().ServerError).toBeUndefined() // a 4xx is no server error
  })

  it('accepts a base64-encoded body (HTTP API does that for non-text content types)', async () => {
    // Prepare
    const handler = await coldStart()
    const body = Buffer.from(JSON.stringify({ owner: 'al', id: 'b64', name: 'n', secret: SECRET }))

    // Act
    const created = await invoke(handler, {
      ...createEvent(''),
      body: body.toString('base64'),
      isBase64Encoded: true,
    })

    // Assess
    expect(created.statusCode).toBe(201)
    expect(table.has(keyOf('al', 'b64'))).toBe(true)
  })

  it('answers 404 for an item that does not exist', async () => {
    // Prepare
    const handler = await coldStart()

    // Act
    const answer = await invoke(handler, getEvent('alice', 'nope'))

    // Assess
    expect(answer.statusCode).toBe(404)
    expect(answer.json).toEqual({
      code: 'ITEM_NOT_FOUND',
      message: 'no item with this owner and id',
    })
  })

  it('serves the sample events in events/ (create, get, list)', async () => {
    // Prepare
    const handler = await coldStart()
    const sample = (name: string) =>
      JSON.parse(readFileSync(`${REPO_ROOT}/events/secure-items-${name}.json`, 'utf8')) as Record<
        string,
        unknown
      >

    // Act
    const created = await invoke(handler, sample('create'))
    const read = await invoke(handler, sample('get'))
    const listed = await invoke(handler, sample('list'))

    // Assess
    expect(created.statusCode).toBe(201)
    expect(read.statusCode).toBe(200)
    expect(read.json.id).toBe(created.json.id)
    expect(read.json.secret).toBe(JSON.parse(String(sample('create').body)).secret)
    expect(listed.statusCode).toBe(200)
    expect(listed.json.items).toEqual([
      expect.objectContaining({ id: created.json.id, name: created.json.name }),
    ])
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input.Limit).toBe(10)
  })
})

describe('secure-items: list by owner', () => {
  it('lists ids and names without any secret, paged by limit and cursor', async () => {
    // Prepare
    const handler = await coldStart()
    for (const id of ['a1', 'a2', 'a3']) {
      await invoke(handler, createEvent({ owner: 'carol', id, name: `name-${id}`, secret: SECRET }))
    }
    await invoke(handler, createEvent({ owner: 'dave', id: 'a0', name: 'other', secret: SECRET }))

    // Act
    const first = await invoke(handler, listEvent('carol', { limit: '2' }))
    const second = await invoke(
      handler,
      listEvent('carol', { limit: '2', cursor: String(first.json.next) }),
    )
    const everything = await invoke(handler, listEvent('carol'))

    // Assess
    expect(first.statusCode).toBe(200)
    expect(first.json.items).toEqual([
      { id: 'a1', name: 'name-a1', createdAt: expect.any(String) },
      { id: 'a2', name: 'name-a2', createdAt: expect.any(String) },
    ])
    expect(first.json.next).toEqual(expect.any(String))
    expect(second.json).toEqual({
      owner: 'carol',
      items: [{ id: 'a3', name: 'name-a3', createdAt: expect.any(String) }],
    })
    expect(everything.json.items).toHaveLength(3)
    const queries = ddb.commandCalls(QueryCommand).map((call) => call.args[0].input)
    expect(queries[0]).toMatchObject({
      TableName: TABLE,
      KeyConditionExpression: '#owner = :owner',
      ExpressionAttributeValues: { ':owner': 'carol' },
      ProjectionExpression: '#id, #name, #createdAt',
      Limit: 2,
    })
    expect(queries[0]?.ExclusiveStartKey).toBeUndefined()
    expect(queries[1]?.ExclusiveStartKey).toEqual({ owner: 'carol', id: 'a2' })
    expect(queries[2]?.Limit).toBe(25)
    expect(JSON.stringify([first.json, second.json, everything.json])).not.toContain('v1.')
  })
})

describe('secure-items: bad input is refused with 400 and nothing is written', () => {
  const cases: Array<[string, unknown, string]> = [
    [
      'bad JSON',
      createEvent(`{"owner":"alice","secret":"${SECRET}"`),
      'body: body is not valid JSON',
    ],
    ['a JSON array', createEvent([SECRET]), 'body: body must be a JSON object'],
    [
      'missing owner',
      createEvent({ name: 'n', secret: SECRET }),
      'body.owner: owner must be a string',
    ],
    [
      'an empty name',
      createEvent({ owner: 'a', name: '', secret: SECRET }),
      'body.name: name must not be empty',
    ],
    [
      'an oversized secret',
      createEvent({ owner: 'a', name: 'n', secret: `${SECRET}${'x'.repeat(4096)}` }),
      'body.secret: secret must be at most 4096 bytes',
    ],
    [
      'a non-string secret',
      createEvent({ owner: 'a', name: 'n', secret: 42 }),
      'body.secret: secret must be a string',
    ],
    [
      'an unknown field',
      createEvent({ owner: 'a', name: 'n', secret: SECRET, admin: true }),
      'body: body must be a JSON object with owner, name and secret',
    ],
    [
      'an invalid id',
      createEvent({ owner: 'a', id: 'a/b', name: 'n', secret: SECRET }),
      'body.id: id must be 1-64 characters',
    ],
    [
      'an oversized body',
      createEvent({ owner: 'a', name: 'n'.repeat(17_000), secret: SECRET }),
      'body: body must be at most 16384 bytes',
    ],
    ['no body', event('POST /items'), 'body: body is required'],
    [
      'a bad owner in the path',
      getEvent('../etc', 'x'),
      'pathParameters.owner: owner must be 1-128 characters',
    ],
    [
      'a bad id in the path',
      getEvent('alice', 'a b'),
      'pathParameters.id: id must be 1-64 characters',
    ],
    [
      'no path parameters',
      event('GET /items/{owner}/{id}'),
      'pathParameters: path must be /items/{owner}/{id}',
    ],
    [
      'a bad limit',
      listEvent('alice', { limit: '1000' }),
      'queryStringParameters.limit: limit must be a whole number from 1 to 100',
    ],
    [
      'a bad cursor',
      listEvent('alice', { cursor: '!!' }),
      'queryStringParameters.cursor: cursor is not a valid page token',
    ],
    ['an unknown route', event('DELETE /items/{owner}/{id}'), 'routeKey: unsupported route'],
    [
      'a REST API (1.0) event',
      { ...createEvent({}), version: '1.0' },
      'version: event must be an API Gateway HTTP API event',
    ],
    ['not an object', SECRET, ': event must be an API Gateway HTTP API event'],
  ]

  it.each(cases)('%s', async (_label, badEvent, expected) => {
    // Prepare
    const handler = await coldStart()

    // Act
    const answer = await invoke(handler, badEvent)

    // Assess
    expect(answer.statusCode).toBe(400)
    expect(answer.json.code).toBe('INVALID_REQUEST')
    expect(answer.json.message).toBe('invalid request')
    const details = answer.json.details as Array<{ path: string; message: string }>
    expect(details.map(({ path, message }) => `${path}: ${message}`).join('\n')).toContain(expected)
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0)
    expect(table.size).toBe(0)
    expectNoSecrets(answer.body, [SECRET])
    const warning = logLines().find((line) => line.message === 'request failed')
    expect(warning).toMatchObject({ level: 'WARN', statusCode: 400, code: 'INVALID_REQUEST' })
    expect(emittedMetrics().Error_INVALID_REQUEST).toEqual([1])
    expect(emittedMetrics().ServerError).toBeUndefined()
  })
})

describe('secure-items: tampering with stored items is detected', () => {
  const seed = async (handler: Handler) => {
    for (const id of ['one', 'two']) {
      const answer = await invoke(
        handler,
        createEvent({ owner: 'erin', id, name: id, secret: `${SECRET}-${id}` }),
      )
      expect(answer.statusCode).toBe(201)
    }
  }

  it.each([
    [
      'the ciphertext altered',
      (row: Row) => {
        const value = String(row.secret)
        row.secret = `${value.slice(0, -30)}${value.at(-30) === 'A' ? 'B' : 'A'}${value.slice(-29)}`
      },
    ],
    [
      'the sealed value of another item copied in',
      (row: Row) => {
        row.secret = table.get(keyOf('erin', 'two'))?.secret
      },
    ],
    [
      'the secret replaced by clear text',
      (row: Row) => {
        row.secret = 'plain text'
      },
    ],
    [
      'the secret removed',
      (row: Row) => {
        delete row.secret
      },
    ],
    [
      'a future format version',
      (row: Row) => {
        row.secret = `v2${String(row.secret).slice(2)}`
      },
    ],
  ])('%s -> 500 ITEM_INTEGRITY, logged without the value', async (_label, tamper) => {
    // Prepare
    const handler = await coldStart()
    await seed(handler)
    const row = table.get(keyOf('erin', 'one')) as Row
    const original = String(row.secret)
    tamper(row)

    // Act
    const answer = await invoke(handler, getEvent('erin', 'one'))

    // Assess
    expect(answer.statusCode).toBe(500)
    expect(answer.json).toEqual({
      code: 'ITEM_INTEGRITY',
      message: 'the stored item failed its integrity check',
    })
    const logged = logLines().find((line) => line.code === 'ITEM_INTEGRITY')
    expect(logged).toMatchObject({ level: 'ERROR', owner: 'erin', id: 'one', statusCode: 500 })
    expect(emittedMetrics()).toMatchObject({
      ItemIntegrityFailure: [1],
      Error_ITEM_INTEGRITY: [1],
      ServerError: [1],
    })
    expectNoSecrets(output.join('') + answer.body, [
      `${SECRET}-one`,
      `${SECRET}-two`,
      original.split('.')[3] as string,
    ])
  })

  it('a table restored under another name still opens with AAD_TABLE_NAME', async () => {
    // Prepare
    const handler = await coldStart()
    await seed(handler)
    const restoredOpens = await coldStart({
      TABLE_NAME: 'stack-items-restored',
      AAD_TABLE_NAME: TABLE,
    })
    const restoredFails = await coldStart({ TABLE_NAME: 'stack-items-restored' })

    // Act
    const withAad = await invoke(restoredOpens, getEvent('erin', 'one'))
    const withoutAad = await invoke(restoredFails, getEvent('erin', 'one'))

    // Assess
    expect(withAad.statusCode).toBe(200)
    expect(withAad.json.secret).toBe(`${SECRET}-one`)
    expect(withoutAad.statusCode).toBe(500)
    expect(withoutAad.json.code).toBe('ITEM_INTEGRITY')
  })
})

describe('secure-items: failures of KMS, DynamoDB and configuration', () => {
  it('a KMS failure gives 500 and is not cached: the next invocation decrypts again', async () => {
    // Prepare
    fake.kms.reset()
    const denied = Object.assign(new Error('denied'), { name: 'AccessDeniedException' })
    fake.kms
      .on(DecryptCommand)
      .rejectsOnce(denied) // the round awaited at INIT
      .rejectsOnce(denied) // the first invocation's retry
      .resolves({ Plaintext: Uint8Array.from(DATA_KEY), KeyId: KEY_ARN })
    const handler = await coldStart()

    // Act
    const failed = await invoke(handler, createEvent({ owner: 'f', name: 'n', secret: SECRET }))
    const retried = await invoke(handler, createEvent({ owner: 'f', name: 'n', secret: SECRET }))

    // Assess
    expect(failed.statusCode).toBe(500)
    expect(failed.json).toEqual({ code: 'INTERNAL', message: 'internal error' })
    expect(retried.statusCode).toBe(201)
    expect(fake.kms.commandCalls(DecryptCommand)).toHaveLength(3)
    expect(table.size).toBe(1)
    const logged = logLines().find((line) => line.kmsSecretsCode === 'ACCESS_DENIED')
    expect(logged).toMatchObject({
      level: 'ERROR',
      variable: 'DATA_KEY',
      kmsError: 'AccessDeniedException',
    })
    expect(emittedMetrics().DataKeyDecryptLatency).toHaveLength(1)
  })

  it('KMS throttling gives 503 (retry later), counted as ServerError where the canary alarm looks', async () => {
    // Prepare
    fake.kms.reset()
    fake.kms
      .on(DecryptCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }))
    const handler = await coldStart({ AWS_MAX_ATTEMPTS: '1' })

    // Act
    const answer = await invoke(handler, getEvent('g', 'x'))

    // Assess
    expect(answer.statusCode).toBe(503)
    expect(answer.json.code).toBe('UNAVAILABLE')
    const counted = output
      .join('')
      .split('\n')
      .filter((line) => line.includes('"ServerError"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(counted).toHaveLength(1)
    expect(counted[0]).toMatchObject({
      service: 'secure-items',
      ServerError: 1,
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: 'Test',
            Dimensions: [['service']],
            Metrics: expect.arrayContaining([{ Name: 'ServerError', Unit: 'Count' }]),
          },
        ],
      },
    })
  })

  it('a data key that is not 32 bytes gives 500, logged with its length only', async () => {
    // Prepare
    sealDataKey(DATA_KEY.subarray(0, 16)) // the same blob, now opening to 16 bytes
    const handler = await coldStart()

    // Act
    const answer = await invoke(handler, createEvent({ owner: 'h', name: 'n', secret: SECRET }))

    // Assess
    expect(answer.statusCode).toBe(500)
    expect(answer.json).toEqual({ code: 'MISCONFIGURED', message: 'internal error' })
    expect(table.size).toBe(0)
    expect(logLines().find((line) => line.code === 'MISCONFIGURED')?.reason).toMatch(
      /32 bytes, not 16/,
    )
  })

  it('DynamoDB throttling gives 503; an unexpected error gives 500 without its message', async () => {
    // Prepare
    const handler = await coldStart()
    ddb
      .on(PutCommand)
      .rejectsOnce(
        new ProvisionedThroughputExceededException({ message: 'too fast', $metadata: {} }),
      )
      .rejectsOnce(new TypeError(`Unsupported type passed: ${SECRET}`))

    // Act
    const throttled = await invoke(handler, createEvent({ owner: 'i', name: 'n', secret: SECRET }))
    const broken = await invoke(handler, createEvent({ owner: 'i', name: 'n', secret: SECRET }))

    // Assess
    expect(throttled.statusCode).toBe(503)
    expect(throttled.json.code).toBe('UNAVAILABLE')
    expect(broken.statusCode).toBe(500)
    expect(broken.json).toEqual({ code: 'INTERNAL', message: 'internal error' })
    expect(logLines().find((line) => line.errorName === 'TypeError')).toMatchObject({
      level: 'ERROR',
      code: 'INTERNAL',
    })
  })

  it('decrypts within INIT: the module loads once the data key is in, the first call makes no KMS call', async () => {
    // Prepare
    fake.kms.reset()
    let answered = 0
    fake.kms.on(DecryptCommand).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50)) // a network round trip
      answered++
      return { Plaintext: Uint8Array.from(DATA_KEY), KeyId: KEY_ARN }
    })

    // Act
    const handler = await coldStart()
    const answeredAtInit = answered
    const created = await invoke(handler, createEvent({ owner: 'i', name: 'n', secret: SECRET }))

    // Assess
    expect(answeredAtInit).toBe(1)
    expect(created.statusCode).toBe(201)
    expect(fake.kms.commandCalls(DecryptCommand)).toHaveLength(1)
  })

  it('refuses to start without TABLE_NAME', async () => {
    // Prepare
    vi.stubEnv('TABLE_NAME', '')
    vi.resetModules()

    // Act
    const loading = import('../../../functions/secure-items/handler.ts')

    // Assess
    await expect(loading).rejects.toThrow(/TABLE_NAME must name the items table/)
  })

  it('refuses to start with a KMS_SECRETS_CACHE_EXPIRY that is not -1, 0 or milliseconds', async () => {
    // Act
    const loading = coldStart({ KMS_SECRETS_CACHE_EXPIRY: '15 minutes' })

    // Assess
    await expect(loading).rejects.toThrow(/KMS_SECRETS_CACHE_EXPIRY must be -1, 0 or/)
  })

  it('asks KMS again once KMS_SECRETS_CACHE_EXPIRY has passed', async () => {
    // Prepare
    const handler = await coldStart({ KMS_SECRETS_CACHE_EXPIRY: '1' })
    const created = await invoke(handler, createEvent({ owner: 'x', name: 'n', secret: SECRET }))

    // Act
    await new Promise((resolve) => setTimeout(resolve, 20))
    const read = await invoke(handler, getEvent('x', String(created.json.id)))

    // Assess
    expect(read.statusCode).toBe(200)
    expect(fake.kms.commandCalls(DecryptCommand).length).toBeGreaterThanOrEqual(2)
  })
})

describe('secure-items: observability', () => {
  it('emits ColdStart and the decrypt latency once, item metrics per invocation', async () => {
    // Prepare
    const handler = await coldStart()

    // Act
    const created = await invoke(handler, createEvent({ owner: 'j', name: 'n', secret: SECRET }))
    await invoke(handler, getEvent('j', String(created.json.id)))
    await invoke(handler, listEvent('j'))

    // Assess
    const metrics = emittedMetrics()
    expect(metrics.ColdStart).toEqual([1])
    expect(metrics.DataKeyDecryptLatency).toHaveLength(1)
    expect(metrics.DataKeyDecryptLatency?.[0]).toBeGreaterThanOrEqual(0)
    expect(metrics).toMatchObject({ ItemCreated: [1], ItemRead: [1], ItemsListed: [1] })
    const created_ = logLines().find((line) => line.message === 'item created')
    expect(created_).toMatchObject({
      level: 'INFO',
      service: 'secure-items',
      function_name: FUNCTION_NAME,
      owner: 'j',
      id: created.json.id,
    })
  })

  it('never logs the event, even with POWERTOOLS_LOGGER_LOG_EVENT and LOG_LEVEL=DEBUG', async () => {
    // Prepare
    const handler = await coldStart({ POWERTOOLS_LOGGER_LOG_EVENT: 'true', LOG_LEVEL: 'DEBUG' })

    // Act
    const created = await invoke(handler, createEvent({ owner: 'k', name: 'n', secret: SECRET }))
    await invoke(handler, getEvent('k', String(created.json.id)))

    // Assess
    expect(logLines().some((line) => line.level === 'DEBUG')).toBe(true)
    expect(logLines().some((line) => line.message === 'Lambda invocation event')).toBe(false)
    // afterEach: neither SECRET nor DATA_KEY in any output
  })
})
