// X-Ray for real: the BUILT functions (scripts/invoke.ts, as sam local would run them) send
// their segment documents over UDP to AWS_XRAY_DAEMON_ADDRESS, here a listener on 127.0.0.1.
// What arrives is parsed: the handler's subsegment, the INIT decrypt round with its counts,
// the DynamoDB calls and the upstream HTTPS call; and no secret in any of it.
// Needs from the runner: AWS_XRAY_DAEMON_ADDRESS passed through, and the trace header as
// _X_AMZN_TRACE_ID (Lambda-Runtime-Trace-Id) for each invocation. The runner ends its process
// right after the last result, which can drop that invocation's datagrams (Lambda freezes the
// environment instead): the assertions are on the invocations before the last one.
import { randomBytes } from 'node:crypto'
import { createSocket, type Socket } from 'node:dgram'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { CreateKeyCommand, EncryptCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { invoke } from '../../scripts/invoke.ts'
import { awsEnv } from '../../scripts/local/aws-env.ts'
import { type RunningHttpsServer, startHttpsServer } from '../../scripts/local/https-server.ts'
import { createTestPki } from '../../scripts/local/tls.ts'
import { createItemsTable, dynamoClient, kmsClient } from '../support/aws.ts'
import { REPO_ROOT, TMP_DIR } from '../support/child.ts'
import { expectNoSecrets, type Secret } from '../support/no-leak.ts'

const motoEndpoint = inject('motoEndpoint')
const STACK = `xr${randomBytes(3).toString('hex')}`
const dir = join(TMP_DIR, `xray-${STACK}`)
const secrets: Secret[] = []
let daemon: Socket
let datagrams: string[] = []
let upstream: RunningHttpsServer

interface Doc {
  name: string
  id: string
  trace_id?: string
  parent_id?: string
  start_time: number
  end_time?: number
  annotations?: Record<string, unknown>
  aws?: Record<string, unknown>
  subsegments?: Doc[]
  fault?: boolean
  error?: boolean
}

/** Every (sub)segment document received, nested ones included. */
const documents = (): Doc[] => {
  const out: Doc[] = []
  const walk = (doc: Doc) => {
    out.push(doc)
    for (const child of doc.subsegments ?? []) walk(child)
  }
  for (const datagram of datagrams) {
    const [header, body] = datagram.split('\n')
    expect(JSON.parse(header as string)).toEqual({ format: 'json', version: 1 })
    walk(JSON.parse(body as string) as Doc)
  }
  return out
}

const traceHeader = (sampled: 0 | 1) => {
  const root = `1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`
  return {
    root,
    header: `Root=${root};Parent=${randomBytes(8).toString('hex')};Sampled=${sampled}`,
  }
}

/** invoke() of one function with these events and env-vars; X-Ray to the listener. */
const run = async (
  logicalId: string,
  events: unknown[],
  vars: Record<string, string>,
  header: string,
) => {
  const files = events.map((event, i) => {
    const path = join(dir, `${logicalId}-${i}.json`)
    writeFileSync(path, JSON.stringify(event))
    return path
  })
  const envVars = join(dir, `${logicalId}-env.json`)
  writeFileSync(envVars, JSON.stringify({ [logicalId]: vars }))
  const logs = new PassThrough()
  let output = ''
  logs.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8')
  })
  datagrams = []
  const result = await invoke(
    {
      logicalId,
      events: files,
      envVars,
      parameterOverrides: { UpstreamUrl: 'https://127.0.0.1/' },
      template: 'template.yaml',
      stackName: STACK,
      buildDir: join(dir, 'build'),
      skipBuild: false,
      samLocal: false,
      help: false,
    },
    {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        ...awsEnv(motoEndpoint),
        AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
        _X_AMZN_TRACE_ID: header,
      },
      log: (line) => {
        output += `${line}\n`
      },
      logStream: logs,
    },
  )
  // Datagrams sent just before the process ended are already in the socket's queue.
  await new Promise((resolve) => setTimeout(resolve, 300))
  expectNoSecrets(output, secrets)
  expectNoSecrets(datagrams.join('\n'), secrets)
  expect(result.exitCode, output).toBe(0)
  return result
}

const itemsSetup = async () => {
  const kms = kmsClient(motoEndpoint)
  const keyId = (await kms.send(new CreateKeyCommand({ Description: 'xray' }))).KeyMetadata
    ?.KeyId as string
  const dataKey = await kms.send(
    new GenerateDataKeyCommand({
      KeyId: keyId,
      KeySpec: 'AES_256',
      EncryptionContext: { LambdaFunctionName: `${STACK}-secure-items` },
    }),
  )
  secrets.push(dataKey.Plaintext as Uint8Array)
  const table = `${STACK}-items-${randomBytes(3).toString('hex')}`
  await createItemsTable(dynamoClient(motoEndpoint), table)
  const secret = `pässwörd€-${randomBytes(12).toString('hex')}`
  secrets.push(secret)
  const create = JSON.parse(
    readFileSync(join(REPO_ROOT, 'events', 'secure-items-create.json'), 'utf8'),
  ) as { body: string }
  create.body = JSON.stringify({ ...JSON.parse(create.body), secret })
  const get = JSON.parse(readFileSync(join(REPO_ROOT, 'events', 'secure-items-get.json'), 'utf8'))
  const vars = {
    TABLE_NAME: table,
    DATA_KEY: Buffer.from(dataKey.CiphertextBlob as Uint8Array).toString('base64'),
  }
  return { events: [create, get], vars }
}

beforeAll(async () => {
  mkdirSync(dir, { recursive: true })
  daemon = createSocket('udp4')
  daemon.on('message', (message) => datagrams.push(message.toString('utf8')))
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve))
  const pki = await createTestPki()
  upstream = await startHttpsServer(pki.server)
  writeFileSync(join(dir, 'ca.pem'), pki.ca.cert)
})
afterAll(async () => {
  daemon?.close()
  await upstream?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('X-Ray segments of the built functions, over UDP', () => {
  it('secure-items: the handler, the INIT decrypt round with its counts, the DynamoDB calls', async () => {
    // Prepare
    const { events, vars } = await itemsSetup()
    const { root, header } = traceHeader(1)
    // Act
    await run('SecureItemsFunction', [...events, events[1]], vars, header)
    // Assess
    const docs = documents()
    const names = docs.map((d) => d.name)
    const round = docs.find((d) => d.name === '### kms-secrets decrypt (INIT)')
    const dynamo = docs.filter((d) => d.name === 'DynamoDB').map((d) => d.aws?.operation)
    expect(names).toContain('## handler.handler') // Powertools names it after _HANDLER
    expect(round?.annotations).toEqual({ secrets: 1, kmsCalls: 1 })
    expect(round?.start_time).toBeLessThan(round?.end_time as number)
    expect(dynamo.slice(0, 2)).toEqual(['PutItem', 'GetItem'])
    expect(new Set(docs.filter((d) => d.trace_id).map((d) => d.trace_id))).toEqual(new Set([root]))
  })

  it('secure-fetch: the upstream HTTPS call with its status, and the INIT round', async () => {
    // Prepare
    const kms = kmsClient(motoEndpoint)
    const keyId = (await kms.send(new CreateKeyCommand({ Description: 'xray fetch' }))).KeyMetadata
      ?.KeyId as string
    const token = `tok_${randomBytes(18).toString('base64url')}`
    secrets.push(token)
    const blob = await kms.send(
      new EncryptCommand({
        KeyId: keyId,
        Plaintext: Buffer.from(token),
        EncryptionContext: { LambdaFunctionName: `${STACK}-secure-fetch` },
      }),
    )
    const event = JSON.parse(
      readFileSync(join(REPO_ROOT, 'events', 'secure-fetch-get.json'), 'utf8'),
    )
    const vars = {
      API_TOKEN: Buffer.from(blob.CiphertextBlob as Uint8Array).toString('base64'),
      UPSTREAM_URL: `${upstream.url}/status`,
      UPSTREAM_CA_FILE: join(dir, 'ca.pem'),
    }
    // Act
    await run('SecureFetchFunction', [event, event], vars, traceHeader(1).header)
    // Assess
    const docs = documents()
    const calls = docs.filter((d) => d.name === '## upstream')
    const round = docs.find((d) => d.name === '### kms-secrets decrypt (INIT)')
    expect(upstream.requests.at(-1)?.headers.authorization).toBe(`Bearer ${token}`)
    expect(calls.length).toBeGreaterThan(0)
    for (const call of calls) expect(call.annotations).toEqual({ status: 200, attempts: 1 })
    expect(round?.annotations).toEqual({ secrets: 1, kmsCalls: 1 })
  })

  it('sends nothing for an invocation Lambda did not sample', async () => {
    // Prepare
    const { events, vars } = await itemsSetup()
    // Act
    await run('SecureItemsFunction', events.slice(1), vars, traceHeader(0).header)
    // Assess
    expect(datagrams).toEqual([])
  })
})
